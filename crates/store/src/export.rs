//! The export of everything stored about a person (the right of access), as one JSON document.
//!
//! It holds the profile, the consent, the subscription, the person's payments and support
//! messages. The access
//! credentials (VLESS UUID and subscription token) are listed as present but their values are
//! withheld: they are passwords, an export travels further than the bot chat, and the person
//! sees them in "My subscription" anyway. Account links (the website's short-lived data-page
//! links) are listed with when they were issued and expire; their hashes are withheld alike.
//! Referrals appear as the person's own code and counts; gifts as those they bought (the code
//! while unredeemed) and those they redeemed.
//! Someone who is also one of the operator's admins finds what they did in the admin panel
//! (the audit entries under their Telegram id). Trial claims are not linked to anyone (an
//! opaque hash) and so cannot be exported.

use std::fmt;

use domain::{Email, Language, Payment, PlanId, Subscription, TelegramId, UserId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    GiftBought, GiftRedeemed, PromoRedemption, ReferralExport, Store, StoreError, SupportMessage,
};

/// Bumped whenever a field changes meaning or disappears; adding fields keeps it.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

/// What the export says instead of a secret's value.
const WITHHELD: &str = "withheld: a secret; shown in My subscription and replaceable on request";
/// What the export says instead of a website session's cookie (only its hash is stored).
const WITHHELD_SESSION: &str = "withheld: a secret; only a hash is stored";
/// What the export says instead of the saved payment method's id.
const WITHHELD_METHOD: &str = "withheld: YooKassa's id of the saved payment method (no card \
     data is stored); deleted when auto-renewal is switched off";
/// What the export says instead of an account link (only its hash is stored anyway).
const WITHHELD_LINK: &str = "withheld: a secret; only a hash is stored, and the bot gives a new \
     link on request";

#[derive(Clone, Serialize)]
pub struct UserExport {
    pub schema_version: u32,
    pub profile: ProfileExport,
    pub consent: ConsentExport,
    pub subscription: Option<Subscription>,
    pub payments: Vec<Payment>,
    pub support_messages: Vec<SupportMessage>,
    pub credentials: Option<CredentialsExport>,
    /// Added after schema version 1 (adding fields keeps the version).
    pub account_links: Vec<AccountLinkExport>,
    /// Added after schema version 1: the audit entries of their work as an admin, if any.
    pub admin_actions: Vec<AdminActionExport>,
    /// Added after schema version 1: their website sessions (signed in with Telegram).
    pub web_sessions: Vec<WebSessionExport>,
    /// Added after schema version 1: the promo codes they used, when, and which payment each
    /// discounted.
    pub promo_codes: Vec<PromoRedemption>,
    /// Added after schema version 1: their referral code and counts, and whether they joined
    /// through someone's link (never whose, nor who joined through theirs).
    pub referrals: ReferralExport,
    /// Added after schema version 1: gifts they bought (with the code while unredeemed).
    pub gifts_bought: Vec<GiftBought>,
    /// Added after schema version 1: gifts they redeemed (never who bought them).
    pub gifts_redeemed: Vec<GiftRedeemed>,
    /// Added after schema version 1: card auto-renewal, while it is on.
    pub auto_renewal: Option<AutoRenewalExport>,
    /// Added after schema version 1: a Telegram Stars subscription, if remembered.
    pub stars_subscription: Option<StarsSubscriptionExport>,
}

#[derive(Clone, Serialize)]
pub struct StarsSubscriptionExport {
    pub plan: PlanId,
    pub charge_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub renews_until: OffsetDateTime,
}

#[derive(Clone, Serialize)]
pub struct WebSessionExport {
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    pub cookie: &'static str,
}

#[derive(Clone, Serialize)]
pub struct AutoRenewalExport {
    pub plan: PlanId,
    #[serde(with = "time::serde::rfc3339")]
    pub enabled_at: OffsetDateTime,
    pub payment_method: &'static str,
}

#[derive(Clone, Serialize)]
pub struct AdminActionExport {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: &'static str,
}

#[derive(Clone, Serialize)]
pub struct ProfileExport {
    pub id: UserId,
    pub telegram_id: TelegramId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub email: Option<Email>,
    pub language: Language,
    pub blocked: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
}

#[derive(Clone, Serialize)]
pub struct ConsentExport {
    /// When the person agreed to the privacy policy; `None` for accounts an operator created.
    #[serde(with = "time::serde::rfc3339::option")]
    pub given_at: Option<OffsetDateTime>,
}

#[derive(Clone, Serialize)]
pub struct CredentialsExport {
    pub vless_uuid: &'static str,
    pub subscription_token: &'static str,
}

#[derive(Clone, Serialize)]
pub struct AccountLinkExport {
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub link: &'static str,
}

/// Exports are personal data: `{:?}` names only what kind of document it is.
impl fmt::Debug for UserExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserExport")
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Everything stored about the person, or `None` if there is no such user.
    pub async fn export_user(&self, id: UserId) -> Result<Option<UserExport>, StoreError> {
        let Some(user) = self.user(id).await? else {
            return Ok(None);
        };
        let last_seen_at = self.last_seen(id).await?.unwrap_or(user.created_at);
        let subscription = self.subscription(id).await?;
        let payments = self.list_payments(Some(id)).await?;
        let support_messages = self.support_messages(id).await?;
        let credentials = self.credentials(id).await?.map(|_| CredentialsExport {
            vless_uuid: WITHHELD,
            subscription_token: WITHHELD,
        });
        let account_links = self
            .account_link_times(id)
            .await?
            .into_iter()
            .map(|(issued_at, expires_at)| AccountLinkExport {
                issued_at,
                expires_at,
                link: WITHHELD_LINK,
            })
            .collect();
        let web_sessions = self
            .web_session_times(id)
            .await?
            .into_iter()
            .map(|(signed_in_at, ends_at)| WebSessionExport {
                signed_in_at,
                ends_at,
                cookie: WITHHELD_SESSION,
            })
            .collect();
        let admin_actions = self
            .audit_of_admin(user.telegram_id)
            .await?
            .into_iter()
            .map(|(at, action)| AdminActionExport {
                at,
                action: action.code(),
            })
            .collect();
        let promo_codes = self.redemptions_of(id).await?;
        let auto_renewal = self
            .auto_renewal(id)
            .await?
            .map(|renewal| AutoRenewalExport {
                plan: renewal.plan,
                enabled_at: renewal.enabled_at,
                payment_method: WITHHELD_METHOD,
            });
        let stars_subscription =
            self.stars_subscription(id)
                .await?
                .map(|s| StarsSubscriptionExport {
                    plan: s.plan,
                    charge_id: s.charge_id,
                    renews_until: s.renews_until,
                });
        Ok(Some(UserExport {
            schema_version: EXPORT_SCHEMA_VERSION,
            profile: ProfileExport {
                id: user.id,
                telegram_id: user.telegram_id,
                first_name: user.first_name,
                last_name: user.last_name,
                username: user.username,
                email: user.email,
                language: user.language,
                blocked: user.blocked,
                created_at: user.created_at,
                last_seen_at,
            },
            consent: ConsentExport {
                given_at: user.consent_at,
            },
            subscription,
            payments,
            support_messages,
            credentials,
            account_links,
            admin_actions,
            web_sessions,
            promo_codes,
            referrals: self.referral_export(id).await?,
            gifts_bought: self.gifts_bought(id).await?,
            gifts_redeemed: self.gifts_redeemed(id).await?,
            auto_renewal,
            stars_subscription,
        }))
    }
}
