//! The operator's public contacts from `[service]`, normalised once into the links pages show.

use domain::PublicUrl;

use crate::SiteSettings;

/// A Telegram username, kept without the leading `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramHandle(String);

impl TelegramHandle {
    /// Accepts `@name`, `name`, `t.me/name` and `https://t.me/name`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().trim_end_matches('/');
        let name = ["https://t.me/", "http://t.me/", "t.me/", "@"]
            .iter()
            .find_map(|prefix| raw.strip_prefix(prefix))
            .unwrap_or(raw);
        let valid = (4..=32).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.starts_with(|c: char| c.is_ascii_alphabetic());
        valid.then(|| Self(name.to_owned()))
    }

    /// `@name`, as people write it.
    pub fn display(&self) -> String {
        format!("@{}", self.0)
    }

    pub fn url(&self) -> String {
        format!("https://t.me/{}", self.0)
    }
}

/// Everything the pages say about who runs the service and how to reach them.
#[derive(Debug, Clone)]
pub struct Contacts {
    pub service: String,
    /// The operator's legal name; empty when not configured.
    pub operator: String,
    /// The website's address, such as `https://vpn.example`; links under it are
    /// [`PublicUrl::join_path`].
    pub site_url: PublicUrl,
    /// The address as people read it: `vpn.example`.
    pub site_host: String,
    pub secure: bool,
    pub email: Option<String>,
    pub support_telegram: Option<TelegramHandle>,
    pub bot: Option<TelegramHandle>,
}

impl Contacts {
    pub fn new(service: &SiteSettings) -> Self {
        let email = service.support_email.trim();
        Self {
            service: service.service_name.trim().to_owned(),
            operator: service.operator.trim().to_owned(),
            secure: service.public_url.is_https(),
            site_url: service.public_url.clone(),
            site_host: service.public_url.host_and_path().to_owned(),
            email: (!email.is_empty()).then(|| email.to_owned()),
            support_telegram: TelegramHandle::parse(&service.support_telegram),
            bot: None,
        }
    }

    /// Where the "open the bot" button leads: the bot when its username is known, otherwise the
    /// support account, which can point people to it.
    pub fn bot_url(&self) -> Option<String> {
        self.bot
            .as_ref()
            .or(self.support_telegram.as_ref())
            .map(TelegramHandle::url)
    }

    pub fn telegram_url(&self) -> Option<String> {
        self.support_telegram.as_ref().map(TelegramHandle::url)
    }

    pub fn mailto(&self) -> Option<String> {
        self.email.as_ref().map(|e| format!("mailto:{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_handles_are_accepted_in_every_usual_spelling() {
        for raw in [
            "@milly_help",
            "milly_help",
            "t.me/milly_help",
            "https://t.me/milly_help/",
        ] {
            let handle = TelegramHandle::parse(raw).unwrap();
            assert_eq!(handle.url(), "https://t.me/milly_help");
            assert_eq!(handle.display(), "@milly_help");
        }
    }

    #[test]
    fn anything_that_is_not_a_telegram_username_is_refused() {
        for raw in ["", "@", "https://evil.example/x", "a b", "@123abc", "ab"] {
            assert_eq!(TelegramHandle::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn the_site_address_is_shown_without_scheme_and_trailing_slash() {
        let service = SiteSettings {
            public_url: "https://vpn.example/".parse().unwrap(),
            ..Default::default()
        };
        let c = Contacts::new(&service);
        assert_eq!(c.site_url.as_str(), "https://vpn.example");
        assert_eq!(c.site_host, "vpn.example");
        assert!(c.secure);
        assert_eq!(c.email, None);
    }

    #[test]
    fn the_bot_button_falls_back_to_the_support_account() {
        let service = SiteSettings {
            support_telegram: "@milly_help".into(),
            ..Default::default()
        };
        let mut c = Contacts::new(&service);
        assert_eq!(c.bot_url().as_deref(), Some("https://t.me/milly_help"));
        c.bot = TelegramHandle::parse("milly_bot");
        assert_eq!(c.bot_url().as_deref(), Some("https://t.me/milly_bot"));
    }
}
