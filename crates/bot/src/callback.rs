//! What an inline button does, as its callback data (at most 64 bytes, as Telegram requires).

use domain::{Language, PlanId};

use crate::guides::Platform;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// On the consent screen, before anything is stored: the language rides in the data.
    Agree(Language),
    Decline(Language),
    ConsentLanguage(Language),
    Menu,
    Buy,
    BuyPlan(PlanId),
    MySubscription,
    Qr,
    Guide(Platform),
    Rotate,
    RotateConfirm,
    Trial,
    Support,
    Privacy,
    Export,
    SetEmail,
    RemoveEmail,
    Delete,
    Withdraw,
    DeleteConfirm,
    /// A short-lived link to the data page on the website.
    AccountLink,
    /// Switches card auto-renewal off (the saved payment method's id is deleted).
    AutoRenewOff,
    /// A monthly Telegram Stars subscription to a 30-day plan (an invoice link).
    StarsSubscribe(PlanId),
    /// Cancels the person's Stars subscription (`editUserStarSubscription`).
    StarsCancel,
    LanguageMenu,
    SetLanguage(Language),
    /// Cancels whatever text the bot was waiting for and shows the menu.
    Cancel,
}

/// Telegram's limit on callback data.
#[cfg(test)]
pub const MAX_DATA_LEN: usize = 64;

impl Action {
    pub fn encode(&self) -> String {
        match self {
            Action::Agree(l) => format!("agree:{}", l.code()),
            Action::Decline(l) => format!("decline:{}", l.code()),
            Action::ConsentLanguage(l) => format!("clang:{}", l.code()),
            Action::Menu => "menu".into(),
            Action::Buy => "buy".into(),
            Action::BuyPlan(plan) => format!("plan:{}", plan.0),
            Action::MySubscription => "sub".into(),
            Action::Qr => "qr".into(),
            Action::Guide(p) => format!("guide:{}", p.code()),
            Action::Rotate => "rotate".into(),
            Action::RotateConfirm => "rotate!".into(),
            Action::Trial => "trial".into(),
            Action::Support => "support".into(),
            Action::Privacy => "privacy".into(),
            Action::Export => "export".into(),
            Action::SetEmail => "email".into(),
            Action::RemoveEmail => "email-".into(),
            Action::Delete => "delete".into(),
            Action::Withdraw => "withdraw".into(),
            Action::DeleteConfirm => "delete!".into(),
            Action::AccountLink => "weblink".into(),
            Action::AutoRenewOff => "renew-off".into(),
            Action::StarsSubscribe(plan) => format!("ssub:{}", plan.0),
            Action::StarsCancel => "ssub-".into(),
            Action::LanguageMenu => "lang".into(),
            Action::SetLanguage(l) => format!("lang:{}", l.code()),
            Action::Cancel => "cancel".into(),
        }
    }

    pub fn decode(data: &str) -> Option<Action> {
        let (head, arg) = match data.split_once(':') {
            Some((head, arg)) => (head, Some(arg)),
            None => (data, None),
        };
        let language = || arg.and_then(Language::from_code);
        Some(match (head, arg) {
            ("agree", _) => Action::Agree(language()?),
            ("decline", _) => Action::Decline(language()?),
            ("clang", _) => Action::ConsentLanguage(language()?),
            ("menu", None) => Action::Menu,
            ("buy", None) => Action::Buy,
            ("plan", Some(plan)) if !plan.is_empty() => Action::BuyPlan(PlanId(plan.to_owned())),
            ("sub", None) => Action::MySubscription,
            ("qr", None) => Action::Qr,
            ("guide", Some(p)) => Action::Guide(Platform::from_code(p)?),
            ("rotate", None) => Action::Rotate,
            ("rotate!", None) => Action::RotateConfirm,
            ("trial", None) => Action::Trial,
            ("support", None) => Action::Support,
            ("privacy", None) => Action::Privacy,
            ("export", None) => Action::Export,
            ("email", None) => Action::SetEmail,
            ("email-", None) => Action::RemoveEmail,
            ("delete", None) => Action::Delete,
            ("withdraw", None) => Action::Withdraw,
            ("delete!", None) => Action::DeleteConfirm,
            ("weblink", None) => Action::AccountLink,
            ("renew-off", None) => Action::AutoRenewOff,
            ("ssub", Some(plan)) if !plan.is_empty() => {
                Action::StarsSubscribe(PlanId(plan.to_owned()))
            }
            ("ssub-", None) => Action::StarsCancel,
            ("lang", None) => Action::LanguageMenu,
            ("lang", Some(_)) => Action::SetLanguage(language()?),
            ("cancel", None) => Action::Cancel,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_data() {
        let actions = [
            Action::Agree(Language::En),
            Action::Decline(Language::Ru),
            Action::ConsentLanguage(Language::En),
            Action::Menu,
            Action::Buy,
            Action::BuyPlan(PlanId("month".into())),
            Action::MySubscription,
            Action::Qr,
            Action::Guide(Platform::Ios),
            Action::Rotate,
            Action::RotateConfirm,
            Action::Trial,
            Action::Support,
            Action::Privacy,
            Action::Export,
            Action::SetEmail,
            Action::RemoveEmail,
            Action::Delete,
            Action::Withdraw,
            Action::DeleteConfirm,
            Action::AccountLink,
            Action::AutoRenewOff,
            Action::StarsSubscribe(PlanId("month".into())),
            Action::StarsCancel,
            Action::LanguageMenu,
            Action::SetLanguage(Language::Ru),
            Action::Cancel,
        ];
        for action in actions {
            let data = action.encode();
            assert!(data.len() <= MAX_DATA_LEN);
            assert_eq!(Action::decode(&data), Some(action));
        }
    }

    #[test]
    fn unknown_data_is_no_action() {
        assert_eq!(Action::decode("nope"), None);
        assert_eq!(Action::decode("agree:de"), None);
        assert_eq!(Action::decode("plan:"), None);
    }
}
