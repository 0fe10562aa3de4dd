//! The person's data page (`/account/{token}`): download form, email form, way to deletion, and
//! the notice left by the last change.

use domain::User;

use crate::lang::RequestLang;
use crate::text::account::AccountText;

use super::href;

/// What the last form on the page did, carried in the address of the page it returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailNotice {
    Saved,
    Removed,
    Invalid,
    Blocked,
    /// Auto-renewal was switched off.
    RenewalOff,
}

impl EmailNotice {
    const ALL: [EmailNotice; 5] = [
        EmailNotice::Saved,
        EmailNotice::Removed,
        EmailNotice::Invalid,
        EmailNotice::Blocked,
        EmailNotice::RenewalOff,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EmailNotice::Saved => "email-saved",
            EmailNotice::Removed => "email-removed",
            EmailNotice::Invalid => "email-invalid",
            EmailNotice::Blocked => "email-blocked",
            EmailNotice::RenewalOff => "auto-renewal-off",
        }
    }

    /// The notice named by `?notice=` in a query string; anything else is none.
    pub fn from_query(query: Option<&str>) -> Option<Self> {
        let code = query?
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "notice")
            .map(|(_, v)| v)?;
        Self::ALL.into_iter().find(|n| n.code() == code)
    }

    fn text(self, t: &AccountText) -> &'static str {
        match self {
            EmailNotice::Saved => t.email_saved,
            EmailNotice::Removed => t.email_removed,
            EmailNotice::Invalid => t.email_invalid,
            EmailNotice::Blocked => t.email_blocked,
            EmailNotice::RenewalOff => t.renew_switched_off,
        }
    }
}

/// What the data page template shows.
pub struct Section {
    pub t: &'static AccountText,
    pub notice: Option<&'static str>,
    pub email: Option<String>,
    /// Blocked people may download and delete, but not change the email.
    pub blocked: bool,
    /// Downloading is a `POST` too: nothing reachable by a plain link hands out data.
    pub export_action: String,
    pub email_action: String,
    pub delete_href: String,
    /// The plan auto-renewal buys, while it is on.
    pub auto_renewal: Option<String>,
    pub auto_renewal_action: String,
}

impl Section {
    /// The section for `user`, reached with the account link `token` (already checked).
    pub fn new(user: &User, token: &str, notice: Option<EmailNotice>, lang: RequestLang) -> Self {
        let t = AccountText::get(lang.lang);
        Self {
            t,
            notice: notice.map(|n| n.text(t)),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            blocked: user.blocked,
            export_action: href(token, "/export", lang),
            email_action: href(token, "/email", lang),
            delete_href: href(token, "/delete", lang),
            auto_renewal: None,
            auto_renewal_action: href(token, "/auto-renewal/off", lang),
        }
    }

    /// Shows auto-renewal as on, buying `plan`.
    pub fn with_auto_renewal(mut self, plan: Option<String>) -> Self {
        self.auto_renewal = plan;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_is_read_back_from_its_own_code() {
        for notice in EmailNotice::ALL {
            let query = format!("lang=en&notice={}", notice.code());
            assert_eq!(EmailNotice::from_query(Some(&query)), Some(notice));
        }
    }

    #[test]
    fn an_unknown_or_missing_notice_is_none() {
        assert_eq!(EmailNotice::from_query(Some("notice=<script>")), None);
        assert_eq!(EmailNotice::from_query(Some("lang=ru")), None);
        assert_eq!(EmailNotice::from_query(None), None);
    }
}
