//! What an inline button does, as its callback data (at most 64 bytes, as Telegram requires).

use domain::{Language, PlanId, PromoCode, StartParameter};

use crate::guides::Platform;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// On the consent screen, before anything is stored: the language rides in the data.
    Agree(Language),
    /// "I agree" on a consent screen reached through a referral or gift link, which rides along.
    AgreeWith(Language, StartParameter),
    Decline(Language),
    ConsentLanguage(Language),
    /// The consent screen in the other language, keeping the link's parameter.
    ConsentLanguageWith(Language, StartParameter),
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
    /// Asks for a promo code.
    Promo,
    /// A Stars invoice for a plan at the price a discount code gives.
    BuyPlanPromo(PlanId, PromoCode),
    /// The person's referral link and counts.
    Invite,
    /// Buying a plan as a gift, and how to redeem one.
    Gifts,
    /// A Stars invoice for a plan bought as a gift.
    GiftPlan(PlanId),
}

/// Telegram's limit on callback data.
pub const MAX_DATA_LEN: usize = 64;

impl Action {
    /// Whether the action fits in Telegram's callback data (a long plan id with a long code
    /// may not: such a button is left out).
    pub fn fits(&self) -> bool {
        self.encode().len() <= MAX_DATA_LEN
    }

    pub fn encode(&self) -> String {
        match self {
            Action::Agree(l) => format!("agree:{}", l.code()),
            Action::AgreeWith(l, p) => format!("agree+:{}:{}", l.code(), p.encode()),
            Action::Decline(l) => format!("decline:{}", l.code()),
            Action::ConsentLanguage(l) => format!("clang:{}", l.code()),
            Action::ConsentLanguageWith(l, p) => format!("clang+:{}:{}", l.code(), p.encode()),
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
            Action::Promo => "promo".into(),
            Action::BuyPlanPromo(plan, code) => format!("pplan:{code}:{}", plan.0),
            Action::Invite => "invite".into(),
            Action::Gifts => "gifts".into(),
            Action::GiftPlan(plan) => format!("giftplan:{}", plan.0),
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
            ("agree+", Some(rest)) => {
                let (l, p) = rest.split_once(':')?;
                Action::AgreeWith(Language::from_code(l)?, StartParameter::parse(p)?)
            }
            ("decline", _) => Action::Decline(language()?),
            ("clang", _) => Action::ConsentLanguage(language()?),
            ("clang+", Some(rest)) => {
                let (l, p) = rest.split_once(':')?;
                Action::ConsentLanguageWith(Language::from_code(l)?, StartParameter::parse(p)?)
            }
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
            ("promo", None) => Action::Promo,
            ("pplan", Some(rest)) => {
                let (code, plan) = rest.split_once(':')?;
                if plan.is_empty() {
                    return None;
                }
                Action::BuyPlanPromo(PlanId(plan.to_owned()), code.parse().ok()?)
            }
            ("invite", None) => Action::Invite,
            ("gifts", None) => Action::Gifts,
            ("giftplan", Some(plan)) if !plan.is_empty() => {
                Action::GiftPlan(PlanId(plan.to_owned()))
            }
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
            Action::Promo,
            Action::BuyPlanPromo(PlanId("vip:eu".into()), "SPRING-25".parse().unwrap()),
            Action::AgreeWith(
                Language::Ru,
                StartParameter::Referral(domain::ReferralCode::generate()),
            ),
            Action::AgreeWith(
                Language::En,
                StartParameter::Gift(domain::GiftCode::generate()),
            ),
            Action::Invite,
            Action::Gifts,
            Action::GiftPlan(PlanId("month".into())),
            Action::ConsentLanguageWith(
                Language::En,
                StartParameter::Gift(domain::GiftCode::generate()),
            ),
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
        assert_eq!(Action::decode("pplan:SPRING"), None);
        assert_eq!(Action::decode("pplan:SPRING:"), None);
        assert_eq!(Action::decode("pplan:no code:month"), None);
    }
}
