//! The website as `milly serve` builds it from the configuration: format rules for `/sub/`,
//! the privacy page's inventory table, and the whole router (built again on reload).

/// The privacy page's table of what is stored in `lang`, generated from the inventory in code.
pub fn inventory_rows(config: &config::Config, lang: domain::Language) -> Vec<web::InventoryEntry> {
    domain::inventory::ENTRIES
        .iter()
        .map(|e| web::InventoryEntry {
            data: format!("{} ({}.{})", e.holds.get(lang), e.table, e.column),
            category: format!("{} ({})", e.category.label(lang), e.category.clause()),
            purpose: e
                .purposes
                .iter()
                .map(|p| p.label(lang))
                .collect::<Vec<_>>()
                .join("; "),
            retention: e.retention.describe(lang, config.privacy.retention_days),
        })
        .collect()
}

/// `[subscription] rules` (validated at load) for the website's format choice.
pub fn format_rules(config: &config::Config) -> Vec<web::subscription::format::FormatRule> {
    config
        .subscription
        .rules
        .iter()
        .filter_map(|r| {
            let format = r.format.parse().ok()?;
            Some(web::subscription::format::FormatRule::new(
                &r.user_agent,
                format,
            ))
        })
        .collect()
}

/// What the website is built from besides the configuration: made once at start and kept
/// when a reload rebuilds the site.
pub struct WebParts {
    pub app: app::App,
    pub bot_username: Option<String>,
    /// How the admin panel adds a remote node (`[control] listen` set), else none.
    pub node_registrar: Option<std::sync::Arc<dyn web::NodeRegistrar>>,
    pub cards: Option<app::CardPayments>,
    /// The operator's routes (`/admin/metrics`).
    pub admin: axum::Router,
    /// The Telegram webhook, when the bot takes updates that way.
    pub hook: Option<axum::Router>,
}

/// The whole website for `config`: pages, card payments, the operator's routes and the webhook.
pub fn router(config: &config::Config, parts: &WebParts) -> axum::Router {
    let mut site = web::Site::new(crate::settings::site(config))
        .with_app(parts.app.clone())
        .with_format_rules(format_rules(config))
        .with_data_inventory(|lang| inventory_rows(config, lang));
    if let Some(registrar) = &parts.node_registrar {
        site = site.with_node_registrar(registrar.clone());
    }
    if let Some(name) = &parts.bot_username {
        site = site.with_bot_username(name);
    }
    if let Some(cards) = &parts.cards {
        site = site.with_card_payments(cards.clone());
    }
    // The admin routes get the site's headers and error pages, so probes see one website.
    let router = web::router_with(site, parts.admin.clone());
    match &parts.hook {
        Some(hook) => router.merge(hook.clone()),
        None => router,
    }
}

#[cfg(test)]
mod tests {
    use domain::Language;

    #[test]
    fn the_privacy_page_lists_promo_redemptions_with_purpose_and_retention() {
        let config = config::Config::default();
        for (lang, purpose, retention) in [
            (Language::En, "Payment processing", "until deletion"),
            (Language::Ru, "Обработка платежей", "до удаления аккаунта"),
        ] {
            let rows = super::inventory_rows(&config, lang);
            for column in ["user_id", "promo_code_id", "payment_id", "redeemed_at"] {
                let row = rows
                    .iter()
                    .find(|r| r.data.contains(&format!("(promo_redemptions.{column})")))
                    .unwrap_or_else(|| panic!("promo_redemptions.{column} on the privacy page"));
                assert!(row.purpose.contains(purpose), "{row:?}");
                assert!(row.retention.contains(retention), "{row:?}");
            }
            assert!(rows
                .iter()
                .any(|r| r.data.contains("(payments.promo_code_id)")));
        }
    }
}
