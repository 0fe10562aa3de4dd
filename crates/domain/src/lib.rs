//! Domain types and rules of the milly VPN service: users, plans, subscriptions, payments, nodes
//! and share links. No I/O, no async: everything here is a value or a pure function of values.

mod access;
mod account_link;
mod admin_panel;
mod broadcast;
pub mod counts;
mod database_url;
mod ids;
pub mod inventory;
mod link;
mod masked_secret;
mod money;
mod node;
mod payment;
mod payment_method;
mod plan;
mod promo;
mod public_url;
mod referral;
mod remote_node;
mod secret;
mod subscription;
pub mod telegram_login;
mod user;
mod web_session;

pub use access::{has_access, AccessDenied};
pub use account_link::{AccountLinkHash, AccountLinkToken, ACCOUNT_LINK_LIFETIME_MINUTES};
pub use admin_panel::{
    AdminAction, AdminToken, AdminTokenHash, ADMIN_AUDIT_RETENTION_DAYS,
    ADMIN_LOGIN_LIFETIME_MINUTES, ADMIN_SESSION_IDLE_HOURS, ADMIN_SESSION_MAX_DAYS,
};
pub use broadcast::{
    BroadcastAudience, BroadcastOutcome, ExpiredDays, BROADCAST_MAX_CHARS, EXPIRED_WITHIN,
};
pub use database_url::{mask_database_url, DatabaseUrl};
pub use ids::{
    InvalidId, PaymentId, ReturnToken, SubscriptionToken, TelegramId, UserId, UserRef, VlessUuid,
};
pub use link::{
    link_entries, link_names, share_link, share_links, LinkEntry, ShareLinkError, EARLY_DATA,
};
pub use masked_secret::Secret;
pub use money::{Currency, Money};
pub use node::{Location, NodeId, NodeSecurity, NodeSpec, NodeTransport, RealityParams, TlsParams};
pub use payment::{Payment, PaymentStatus, Provider};
pub use payment_method::{PaymentMethod, UnknownPaymentMethod};
pub use plan::{Plan, PlanId, TRIAL_PLAN_ID};
pub use promo::{
    end_of_day_utc, InvalidPercent, InvalidPromoCode, Percent, Promo, PromoBenefit, PromoCode,
    PromoCodeId, PromoRefusal, PROMO_CODE_MAX_LEN, PROMO_MAX_PERCENT,
};
pub use public_url::{InvalidPublicUrl, PublicUrl};
pub use referral::{
    bot_start_link, GiftCode, InvalidCode, ReferralCode, StartParameter, REFERRAL_PLAN_ID,
};
pub use remote_node::{
    CertPin, ChainKey, InvalidPin, JoinToken, JoinTokenHash, NodeKind, NodePrivateSettings,
    NodeRecord, NodeStatus, JOIN_TOKEN_LIFETIME_MINUTES,
};
pub use subscription::{Days, Subscription, SubscriptionError};
pub use user::{Email, InvalidEmail, Language, NewUser, TrialClaim, User};
pub use web_session::{WebSessionHash, WebSessionToken, WEB_SESSION_DAYS};

/// Unix time in whole seconds: how the store keeps every instant, identically in every dialect.
pub fn unix_seconds(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// The inverse of [`unix_seconds`]; out-of-range values (only possible from a corrupt store)
/// clamp to the nearest representable instant instead of failing.
pub fn from_unix_seconds(secs: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(if secs < 0 {
        time::OffsetDateTime::UNIX_EPOCH
    } else {
        time::macros::datetime!(9999-12-31 23:59:59 UTC)
    })
}
