//! `Site`: everything the pages need, prepared once at startup from the site's settings.

use std::sync::Arc;

use crate::admin::NodeRegistrar;
use crate::assets::AssetUrls;
use crate::contacts::{Contacts, TelegramHandle};
use crate::document::{Document, FilledDocument};
use crate::pay::CardRoutes;
use crate::settings::SiteSettings;
use crate::subscription::format::{builtin_rules, FormatRule};
use crate::text::Text;
use domain::Language;

const PRIVACY_EN: &str = include_str!("../documents/privacy-policy.en.txt");
const PRIVACY_RU: &str = include_str!("../documents/privacy-policy.ru.txt");
const TERMS_EN: &str = include_str!("../documents/terms.en.txt");
const TERMS_RU: &str = include_str!("../documents/terms.ru.txt");

/// One row of the privacy page's table of stored personal data, in one language. The rows come
/// from the data inventory declared in code (issue 7), handed in with
/// [`Site::with_data_inventory`] for each language the site speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryEntry {
    /// What is stored, such as "Telegram user ID (users.telegram_id)".
    pub data: String,
    /// The policy's category (section 2).
    pub category: String,
    /// The policy's purpose (section 3).
    pub purpose: String,
    /// How long it is kept.
    pub retention: String,
}

/// The website, built once at startup; cheap to clone.
#[derive(Clone)]
pub struct Site {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<SiteSettings>,
    contacts: Contacts,
    assets: AssetUrls,
    privacy: [FilledDocument; 2],
    terms: [FilledDocument; 2],
    /// The inventory table's rows per language, in [`index`] order.
    inventory: [Vec<InventoryEntry>; 2],
    /// The use cases behind `/sub/`; without them `/sub/` is an unknown path.
    app: Option<app::App>,
    /// Card payments; without them `/pay/` and the YooKassa webhook are unknown paths.
    card_routes: Option<CardRoutes>,
    operator_rules: Vec<FormatRule>,
    builtin_rules: Vec<FormatRule>,
    /// Adds remote nodes from the admin panel; without it the panel says how to add them.
    node_registrar: Option<Arc<dyn NodeRegistrar>>,
}

/// What `build` needs besides the settings; the `with_*` methods change one piece each.
#[derive(Clone, Default)]
struct Parts {
    bot: Option<TelegramHandle>,
    inventory: [Vec<InventoryEntry>; 2],
    app: Option<app::App>,
    card_routes: Option<CardRoutes>,
    operator_rules: Vec<FormatRule>,
    node_registrar: Option<Arc<dyn NodeRegistrar>>,
}

impl Site {
    pub fn new(settings: SiteSettings) -> Self {
        Self::build(Arc::new(settings), Parts::default())
    }

    fn parts(&self) -> Parts {
        Parts {
            bot: self.inner.contacts.bot.clone(),
            inventory: self.inner.inventory.clone(),
            app: self.inner.app.clone(),
            card_routes: self.inner.card_routes.clone(),
            operator_rules: self.inner.operator_rules.clone(),
            node_registrar: self.inner.node_registrar.clone(),
        }
    }

    /// Lets the admin panel add remote nodes through `registrar`.
    pub fn with_node_registrar(self, registrar: Arc<dyn NodeRegistrar>) -> Self {
        let parts = Parts {
            node_registrar: Some(registrar),
            ..self.parts()
        };
        Self::build(self.inner.settings.clone(), parts)
    }

    /// Names the Telegram bot the "open the bot" button leads to (known from `getMe` once the
    /// bot runs). Without it the button leads to `[service] support_telegram`.
    pub fn with_bot_username(self, username: &str) -> Self {
        let parts = Parts {
            bot: TelegramHandle::parse(username),
            ..self.parts()
        };
        Self::build(self.inner.settings.clone(), parts)
    }

    /// Shows the rows `rows(lang)` gives as the data inventory table in section 2 of the
    /// privacy policy in `lang`; asked once for every language, so no page lacks its table.
    pub fn with_data_inventory(self, rows: impl Fn(Language) -> Vec<InventoryEntry>) -> Self {
        let mut inventory: [Vec<InventoryEntry>; 2] = Default::default();
        for lang in Language::ALL {
            inventory[index(lang)] = rows(lang);
        }
        let parts = Parts {
            inventory,
            ..self.parts()
        };
        Self::build(self.inner.settings.clone(), parts)
    }

    /// Serves `/sub/{token}` from the application's users, subscriptions and nodes.
    pub fn with_app(self, app: app::App) -> Self {
        let parts = Parts {
            app: Some(app),
            ..self.parts()
        };
        Self::build(self.inner.settings.clone(), parts)
    }

    /// Serves card payments (`/pay/…` and `POST /webhooks/yookassa`) with `cards`, taking
    /// the notifications its provider finds genuine.
    pub fn with_card_payments(self, cards: app::CardPayments) -> Self {
        let parts = Parts {
            card_routes: Some(CardRoutes { cards }),
            ..self.parts()
        };
        Self::build(self.inner.settings.clone(), parts)
    }

    /// User-Agent rules tried before the built-in ones when choosing a subscription format.
    pub fn with_format_rules(self, rules: Vec<FormatRule>) -> Self {
        let parts = Parts {
            operator_rules: rules,
            ..self.parts()
        };
        Self::build(self.inner.settings.clone(), parts)
    }

    fn build(settings: Arc<SiteSettings>, parts: Parts) -> Self {
        let mut contacts = Contacts::new(&settings);
        contacts.bot = parts.bot;
        let fill = |en: &str, ru: &str| {
            [
                Document::parse(ru).fill(&contacts, Text::get(Language::Ru)),
                Document::parse(en).fill(&contacts, Text::get(Language::En)),
            ]
        };
        let privacy = fill(PRIVACY_EN, PRIVACY_RU);
        let terms = fill(TERMS_EN, TERMS_RU);
        Self {
            inner: Arc::new(Inner {
                settings,
                contacts,
                assets: AssetUrls::new(),
                privacy,
                terms,
                inventory: parts.inventory,
                app: parts.app,
                card_routes: parts.card_routes,
                operator_rules: parts.operator_rules,
                builtin_rules: builtin_rules(),
                node_registrar: parts.node_registrar,
            }),
        }
    }

    pub fn settings(&self) -> &SiteSettings {
        &self.inner.settings
    }

    pub fn contacts(&self) -> &Contacts {
        &self.inner.contacts
    }

    pub fn assets(&self) -> &AssetUrls {
        &self.inner.assets
    }

    pub fn privacy(&self, lang: Language) -> &FilledDocument {
        &self.inner.privacy[index(lang)]
    }

    pub fn terms(&self, lang: Language) -> &FilledDocument {
        &self.inner.terms[index(lang)]
    }

    /// The inventory table's rows for the privacy policy in `lang`.
    pub fn inventory(&self, lang: Language) -> &[InventoryEntry] {
        &self.inner.inventory[index(lang)]
    }

    pub fn app(&self) -> Option<&app::App> {
        self.inner.app.as_ref()
    }

    pub(crate) fn card_routes(&self) -> Option<&CardRoutes> {
        self.inner.card_routes.as_ref()
    }

    pub(crate) fn node_registrar(&self) -> Option<&dyn NodeRegistrar> {
        self.inner.node_registrar.as_deref()
    }

    /// The operator's format rules, then the built-in ones.
    pub fn format_rules(&self) -> (&[FormatRule], &[FormatRule]) {
        (&self.inner.operator_rules, &self.inner.builtin_rules)
    }

    /// Whether cookies must be `Secure`: the site is reached over TLS.
    pub fn secure(&self) -> bool {
        self.inner.contacts.secure
    }
}

fn index(lang: Language) -> usize {
    match lang {
        Language::Ru => 0,
        Language::En => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_policy_translations_have_the_same_twelve_sections() {
        for source in [PRIVACY_EN, PRIVACY_RU] {
            assert_eq!(Document::parse(source).section_headings(), 12);
        }
        for source in [TERMS_EN, TERMS_RU] {
            assert_eq!(Document::parse(source).section_headings(), 7);
        }
    }

    /// The inventory table names categories (section 2.1) and purposes (section 3.1) in the
    /// words of the policy it sits in, in each language.
    #[test]
    fn the_inventory_labels_are_the_policys_own_words() {
        use domain::inventory::{Category, Purpose};
        for (lang, source) in [(Language::Ru, PRIVACY_RU), (Language::En, PRIVACY_EN)] {
            let policy = source.to_lowercase();
            let listed = Category::ALL.into_iter().filter(|c| c.clause() == "2.1");
            for label in listed
                .map(|c| c.label(lang))
                .chain(Purpose::ALL.into_iter().map(|p| p.label(lang)))
            {
                assert!(policy.contains(&label.to_lowercase()), "{lang:?}: {label}");
            }
        }
    }

    #[test]
    fn embedded_texts_use_only_known_placeholders() {
        let site = Site::new(SiteSettings::default());
        for lang in Language::ALL {
            for doc in [site.privacy(lang), site.terms(lang)] {
                let text = doc.plain_text();
                assert!(!text.contains('{') && !text.contains('}'), "{text}");
            }
        }
    }
}
