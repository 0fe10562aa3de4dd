//! The data inventory as code: every column the store has, classified. Personal data
//! ([`ENTRIES`]) names its category (privacy policy section 2), purposes (section 3) and
//! retention; every other column is listed in [`NOT_PERSONAL`] with the reason, so a new column
//! cannot appear without someone deciding what it is. `milly privacy inventory` and the
//! website's privacy page render this list; a test compares it with the live schema.

use serde::Serialize;

/// Days a support ticket is kept after its last message (unless the person is erased first).
pub const SUPPORT_TICKET_RETENTION_DAYS: u32 = 365;
/// Days the bot remembers an update id it handled (Telegram redelivers for at most a day).
pub const BOT_UPDATE_RETENTION_DAYS: u32 = 2;
/// Days a gift's code stays redeemable after it was bought; then the retention job clears it.
pub const GIFT_CODE_RETENTION_DAYS: u32 = 365;
/// Days a revoked VLESS id is remembered so polling nodes learn to drop it.
pub const ACCESS_TOMBSTONE_RETENTION_DAYS: u32 = 7;

/// How long an account link (`account_links`) stays valid; see `crate::account_link`.
pub use crate::account_link::ACCOUNT_LINK_LIFETIME_MINUTES;
/// How long the admin panel's login links, sessions and audit entries last; see
/// `crate::admin_panel`.
pub use crate::admin_panel::{
    ADMIN_AUDIT_RETENTION_DAYS, ADMIN_LOGIN_LIFETIME_MINUTES, ADMIN_SESSION_MAX_DAYS,
};
/// How long a website session lasts at most; see `crate::web_session`.
pub use crate::web_session::WEB_SESSION_DAYS;

/// What kind of personal data a column holds: the list in policy section 2.1, plus the two
/// kinds the service also needs (support correspondence, from section 5.1, and the account
/// records that tie the rest together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    TelegramId,
    TelegramName,
    TelegramUsername,
    Email,
    Payment,
    ConnectionData,
    Support,
    Account,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::TelegramId,
        Category::TelegramName,
        Category::TelegramUsername,
        Category::Email,
        Category::Payment,
        Category::ConnectionData,
        Category::Support,
        Category::Account,
    ];

    /// The category as the policy words it.
    pub fn label(self) -> &'static str {
        match self {
            Category::TelegramId => "Telegram user ID",
            Category::TelegramName => "Telegram name and surname",
            Category::TelegramUsername => "Telegram username",
            Category::Email => "Email address (if provided by the User)",
            Category::Payment => "Payment information (amount, date, status, without card data)",
            Category::ConnectionData => {
                "Technical connection data (activation date, subscription period)"
            }
            Category::Support => "Messages to and from technical support",
            Category::Account => "Account records (internal number, language, consent, status)",
        }
    }

    /// Where the policy names this kind of data.
    pub fn clause(self) -> &'static str {
        match self {
            Category::Support => "5.1",
            Category::Account => "3.1, 4.1",
            _ => "2.1",
        }
    }
}

/// Why the data is processed: the purposes of policy section 3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Identification,
    Access,
    Payments,
    Support,
    Quality,
    Law,
}

impl Purpose {
    pub fn label(self) -> &'static str {
        match self {
            Purpose::Identification => "User identification for service provision",
            Purpose::Access => "Providing access to secure internet connection",
            Purpose::Payments => "Payment processing and subscription management",
            Purpose::Support => "Communication with User for technical support",
            Purpose::Quality => "Service quality improvement and issue resolution",
            Purpose::Law => "Fulfillment of obligations under applicable law",
        }
    }
}

/// How long a column's value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// While the person is served; erased when they delete their account or withdraw consent,
    /// and `[privacy] retention_days` after their last subscription ended and their last use.
    Account,
    /// Kept as accounting law requires; at erasure the link to the person is removed.
    LegalRecord,
    /// Erased with the person, or [`SUPPORT_TICKET_RETENTION_DAYS`] after the ticket's last
    /// message, whichever comes first.
    SupportTicket,
    /// A short-lived sign-in link: valid [`ACCOUNT_LINK_LIFETIME_MINUTES`]; deleted when a newer
    /// one is issued, by the retention job once expired, or with the person.
    AccountLink,
    /// An admin's login link or panel session: valid [`ADMIN_LOGIN_LIFETIME_MINUTES`] or at
    /// most [`ADMIN_SESSION_MAX_DAYS`]; deleted at sign-out or by the retention job once expired.
    AdminSignIn,
    /// The admin panel's audit list: kept [`ADMIN_AUDIT_RETENTION_DAYS`] days.
    AdminAudit,
    /// A person's website session after signing in with Telegram: at most
    /// [`WEB_SESSION_DAYS`]; ended at sign-out, deleted by the retention job a day after it
    /// ended (its signature digest refuses a replayed login meanwhile) or with the person.
    WebSession,
    /// Who joined through whose referral link: deleted when either person is erased (or by
    /// the account rule of either).
    Referral,
    /// A gift's code: cleared when redeemed, or [`GIFT_CODE_RETENTION_DAYS`] after the purchase
    /// by the retention job. Erasing the buyer leaves a paid gift redeemable (it may already
    /// have been handed over), no longer linked to them.
    GiftCode,
    /// Card auto-renewal and Stars subscriptions: kept while on; deleted at once when the
    /// person switches it off, when it stops after failed charges, or with the person.
    AutoRenewal,
}

impl Retention {
    /// The rule in words, with the configured account retention filled in.
    pub fn describe(self, retention_days: u32) -> String {
        match self {
            Retention::Account => format!(
                "until deletion, or {retention_days} days after the last subscription ended \
                 and the last use"
            ),
            Retention::LegalRecord => {
                "as the law requires; unlinked from the person at deletion".to_owned()
            }
            Retention::SupportTicket => format!(
                "until deletion, or {SUPPORT_TICKET_RETENTION_DAYS} days after the ticket's \
                 last message"
            ),
            Retention::AccountLink => format!(
                "valid {ACCOUNT_LINK_LIFETIME_MINUTES} minutes; deleted when a newer link is \
                 issued, by the next retention run once expired, or at deletion"
            ),
            Retention::AdminSignIn => format!(
                "an admin's login link works {ADMIN_LOGIN_LIFETIME_MINUTES} minutes and a panel \
                 session at most {ADMIN_SESSION_MAX_DAYS} days; deleted at sign-out or by the \
                 next retention run once expired"
            ),
            Retention::AdminAudit => {
                format!("{ADMIN_AUDIT_RETENTION_DAYS} days, then deleted by the retention job")
            }
            Retention::WebSession => format!(
                "a website session lasts at most {WEB_SESSION_DAYS} days or until sign-out; \
                 deleted by the next retention run a day after it ended, or at deletion"
            ),
            Retention::Referral => format!(
                "until either person is deleted, or {retention_days} days after the last \
                 subscription ended and the last use of either"
            ),
            Retention::GiftCode => format!(
                "until redeemed, or {GIFT_CODE_RETENTION_DAYS} days after the purchase; the \
                 buyer's deletion leaves a paid gift redeemable, no longer linked to them"
            ),
            Retention::AutoRenewal => "while auto-renewal is on; deleted at once when the \
                 person switches it off, when it stops after failed charges, or at deletion"
                .to_owned(),
        }
    }
}

/// One column holding personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub table: &'static str,
    pub column: &'static str,
    pub category: Category,
    pub purposes: &'static [Purpose],
    pub retention: Retention,
    /// What the column holds, in a few words.
    pub holds: &'static str,
}

/// One column that holds no personal data, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NotPersonal {
    pub table: &'static str,
    pub column: &'static str,
    pub why: &'static str,
}

use Category as C;
use Purpose as P;
use Retention as R;

const IDENTIFY: &[Purpose] = &[P::Identification];
const SERVE: &[Purpose] = &[P::Identification, P::Access];
const ACCESS: &[Purpose] = &[P::Access];
const SUBSCRIBE: &[Purpose] = &[P::Access, P::Payments];
const PAY: &[Purpose] = &[P::Payments, P::Law];
const SUPPORT: &[Purpose] = &[P::Support, P::Quality];
const PROMO: &[Purpose] = &[P::Payments];
const REMIND: &[Purpose] = &[P::Payments, P::Support];
const SIGN_IN: &[Purpose] = &[P::Identification];
const AUDIT: &[Purpose] = &[P::Identification, P::Quality];
const REFER: &[Purpose] = &[P::Payments];

const fn entry(
    table: &'static str,
    column: &'static str,
    category: Category,
    purposes: &'static [Purpose],
    retention: Retention,
    holds: &'static str,
) -> Entry {
    Entry {
        table,
        column,
        category,
        purposes,
        retention,
        holds,
    }
}

const fn not_personal(table: &'static str, column: &'static str, why: &'static str) -> NotPersonal {
    NotPersonal { table, column, why }
}

/// Every column that holds personal data.
#[rustfmt::skip]
pub const ENTRIES: &[Entry] = &[
    entry("users", "id", C::Account, SERVE, R::Account, "internal account number"),
    entry("users", "telegram_id", C::TelegramId, SERVE, R::Account, "Telegram user id"),
    entry("users", "first_name", C::TelegramName, IDENTIFY, R::Account, "first name as Telegram reports it"),
    entry("users", "last_name", C::TelegramName, IDENTIFY, R::Account, "surname as Telegram reports it"),
    entry("users", "username", C::TelegramUsername, IDENTIFY, R::Account, "@username as Telegram reports it"),
    entry("users", "email", C::Email, &[P::Payments, P::Support], R::Account, "email, only if the person gave one (receipts, replies)"),
    entry("users", "language", C::Account, IDENTIFY, R::Account, "language the bot and site speak to the person"),
    entry("users", "consent_at", C::Account, &[P::Law], R::Account, "when the person accepted the privacy policy"),
    entry("users", "blocked", C::Account, ACCESS, R::Account, "whether the operator blocked the account"),
    entry("users", "created_at", C::Account, IDENTIFY, R::Account, "when the account was created"),
    entry("users", "last_seen_at", C::Account, &[P::Law], R::Account, "last use of the service (day-level, for the retention rule)"),
    entry("users", "bot_unreachable", C::Account, &[P::Support], R::Account, "whether the person blocked the bot"),
    entry("subscriptions", "user_id", C::Account, SUBSCRIBE, R::Account, "whose subscription"),
    entry("subscriptions", "plan", C::ConnectionData, SUBSCRIBE, R::Account, "plan of the current period"),
    entry("subscriptions", "activated_at", C::ConnectionData, SUBSCRIBE, R::Account, "activation date"),
    entry("subscriptions", "ends_at", C::ConnectionData, SUBSCRIBE, R::Account, "end of the subscription period"),
    entry("credentials", "user_id", C::Account, ACCESS, R::Account, "whose credentials"),
    entry("credentials", "vless_uuid", C::ConnectionData, ACCESS, R::Account, "the person's VLESS id (a password for the node)"),
    entry("credentials", "sub_token", C::ConnectionData, ACCESS, R::Account, "secret of the subscription URL"),
    entry("credentials", "access_revision", C::ConnectionData, ACCESS, R::Account, "when the person's access last changed (a counter)"),
    entry("account_links", "token_hash", C::Account, SIGN_IN, R::AccountLink, "hash of the data-management link the bot gave (the link itself is never stored)"),
    entry("account_links", "user_id", C::Account, SIGN_IN, R::AccountLink, "whose link"),
    entry("account_links", "created_at", C::Account, SIGN_IN, R::AccountLink, "when the bot issued it"),
    entry("account_links", "expires_at", C::Account, SIGN_IN, R::AccountLink, "when it stops working"),
    entry("web_sessions", "token_hash", C::Account, SIGN_IN, R::WebSession, "hash of the website session cookie after signing in with Telegram (the cookie itself is never stored)"),
    entry("web_sessions", "user_id", C::Account, SIGN_IN, R::WebSession, "whose session"),
    entry("web_sessions", "login_digest", C::Account, SIGN_IN, R::WebSession, "hash of the signature of Telegram's login data, so the same login cannot open a second session"),
    entry("web_sessions", "created_at", C::Account, SIGN_IN, R::WebSession, "when the person signed in"),
    entry("web_sessions", "expires_at", C::Account, SIGN_IN, R::WebSession, "when the session ends (sign-out sets it to that moment)"),
    entry("payments", "id", C::Payment, PAY, R::LegalRecord, "payment number"),
    entry("payments", "user_id", C::Account, PAY, R::Account, "who paid; removed at deletion"),
    entry("payments", "provider", C::Payment, PAY, R::LegalRecord, "payment system (YooKassa, Telegram Stars)"),
    entry("payments", "provider_payment_id", C::Payment, PAY, R::LegalRecord, "the payment system's id of the payment"),
    entry("payments", "plan", C::Payment, PAY, R::LegalRecord, "plan bought"),
    entry("payments", "days", C::Payment, PAY, R::LegalRecord, "days bought"),
    entry("payments", "amount_minor", C::Payment, PAY, R::LegalRecord, "amount"),
    entry("payments", "currency", C::Payment, PAY, R::LegalRecord, "currency"),
    entry("payments", "status", C::Payment, PAY, R::LegalRecord, "status (pending, succeeded, ...)"),
    entry("payments", "created_at", C::Payment, PAY, R::LegalRecord, "date"),
    entry("payments", "updated_at", C::Payment, PAY, R::LegalRecord, "date of the last status change"),
    entry("payments", "refunded_minor", C::Payment, PAY, R::LegalRecord, "amount given back, if any"),
    entry("payments", "return_token", C::Payment, PAY, R::Account, "secret of the card payment's return page (shows only its status); removed at deletion"),
    entry("payments", "promo_code_id", C::Payment, PAY, R::LegalRecord, "the discount code the price was offered with, if any"),
    entry("promo_redemptions", "user_id", C::Account, PROMO, R::Account, "who used a promo code; deleted at deletion"),
    entry("promo_redemptions", "promo_code_id", C::Payment, PROMO, R::Account, "which promo code they used (once per person)"),
    entry("promo_redemptions", "payment_id", C::Payment, PROMO, R::Account, "the payment it discounted (none for free days)"),
    entry("promo_redemptions", "redeemed_at", C::Payment, PROMO, R::Account, "when they used it"),
    entry("payments", "saves_method", C::Payment, PAY, R::LegalRecord, "whether the payer chose auto-renewal at checkout (so the payment method was to be saved)"),
    entry("auto_renewals", "user_id", C::Account, PAY, R::AutoRenewal, "whose auto-renewal"),
    entry("auto_renewals", "plan", C::Payment, PAY, R::AutoRenewal, "the plan each renewal buys"),
    entry("auto_renewals", "payment_method_id", C::Payment, PAY, R::AutoRenewal, "YooKassa's id of the saved payment method (no card number, not even its last digits)"),
    entry("auto_renewals", "enabled_at", C::Payment, PAY, R::AutoRenewal, "when the person switched auto-renewal on"),
    entry("auto_renewals", "period_end", C::Payment, PAY, R::AutoRenewal, "the subscription end the latest charge was for"),
    entry("auto_renewals", "attempts", C::Payment, PAY, R::AutoRenewal, "charges tried for that period (at most 3)"),
    entry("auto_renewals", "next_attempt_at", C::Payment, PAY, R::AutoRenewal, "when a failed charge may be retried"),
    entry("auto_renewals", "payment_id", C::Payment, PAY, R::AutoRenewal, "our payment of the latest charge"),
    entry("stars_subscriptions", "user_id", C::Account, PAY, R::AutoRenewal, "whose Telegram Stars subscription"),
    entry("stars_subscriptions", "plan", C::Payment, PAY, R::AutoRenewal, "the plan it renews"),
    entry("stars_subscriptions", "charge_id", C::Payment, PAY, R::AutoRenewal, "Telegram's charge id of its latest payment (to cancel it from the bot)"),
    entry("stars_subscriptions", "renews_until", C::Payment, PAY, R::AutoRenewal, "until when Telegram says it is paid"),
    entry("admin_login_tokens", "token_hash", C::Account, SIGN_IN, R::AdminSignIn, "hash of an admin's one-time panel login link (the link itself is never stored)"),
    entry("admin_login_tokens", "telegram_id", C::TelegramId, SIGN_IN, R::AdminSignIn, "the admin's Telegram id"),
    entry("admin_login_tokens", "created_at", C::Account, SIGN_IN, R::AdminSignIn, "when the bot issued it"),
    entry("admin_login_tokens", "expires_at", C::Account, SIGN_IN, R::AdminSignIn, "when it stops working"),
    entry("admin_login_tokens", "used_at", C::Account, SIGN_IN, R::AdminSignIn, "when it was used (once)"),
    entry("admin_sessions", "token_hash", C::Account, SIGN_IN, R::AdminSignIn, "hash of an admin's panel session cookie"),
    entry("admin_sessions", "telegram_id", C::TelegramId, SIGN_IN, R::AdminSignIn, "the admin's Telegram id"),
    entry("admin_sessions", "created_at", C::Account, SIGN_IN, R::AdminSignIn, "when the admin signed in"),
    entry("admin_sessions", "last_seen_at", C::Account, SIGN_IN, R::AdminSignIn, "the session's last request (for the idle timeout)"),
    entry("admin_sessions", "expires_at", C::Account, SIGN_IN, R::AdminSignIn, "when the session ends however busy"),
    entry("admin_audit", "id", C::Account, AUDIT, R::AdminAudit, "entry number"),
    entry("admin_audit", "at", C::Account, AUDIT, R::AdminAudit, "when an admin acted"),
    entry("admin_audit", "admin_telegram_id", C::TelegramId, AUDIT, R::AdminAudit, "which admin acted"),
    entry("admin_audit", "action", C::Account, AUDIT, R::AdminAudit, "what they did (extend, block, refund, ...)"),
    entry("admin_audit", "target_kind", C::Account, AUDIT, R::AdminAudit, "what it was done to: a user, a payment, a node or a broadcast"),
    entry("admin_audit", "target_id", C::Account, AUDIT, R::AdminAudit, "its internal number (never a name or Telegram id)"),
    entry("broadcasts", "admin_telegram_id", C::TelegramId, AUDIT, R::AdminAudit, "which admin started a broadcast"),
    entry("referral_codes", "user_id", C::Account, REFER, R::Account, "whose referral link"),
    entry("referral_codes", "code", C::Account, REFER, R::Account, "the random code in the person's referral link"),
    entry("referral_codes", "created_at", C::Account, REFER, R::Account, "when the person first asked for their link"),
    entry("referrals", "newcomer_id", C::Account, REFER, R::Referral, "who joined through a referral link (never shown to the referrer)"),
    entry("referrals", "referrer_id", C::Account, REFER, R::Referral, "whose link it was (never shown to the newcomer)"),
    entry("referrals", "joined_at", C::Account, REFER, R::Referral, "when the newcomer joined"),
    entry("referrals", "reward_days", C::Payment, REFER, R::Referral, "bonus days offered to the referrer when the newcomer joined"),
    entry("referrals", "welcome_days", C::Payment, REFER, R::Referral, "bonus days offered to the newcomer"),
    entry("referrals", "rewarded_at", C::Payment, REFER, R::Referral, "when the newcomer's first payment earned the rewards (once)"),
    entry("gifts", "payment_id", C::Payment, PAY, R::LegalRecord, "the payment that bought the gift (the buyer is that payment's payer)"),
    entry("gifts", "code", C::Payment, PAY, R::GiftCode, "the gift's code (shown to the buyer only)"),
    entry("gifts", "redeemed_by", C::Account, PAY, R::Account, "who redeemed the gift; removed at their deletion"),
    entry("gifts", "redeemed_at", C::Payment, PAY, R::LegalRecord, "when the gift was redeemed"),
    entry("reminders_sent", "user_id", C::Account, REMIND, R::Account, "who was reminded"),
    entry("reminders_sent", "kind", C::ConnectionData, REMIND, R::Account, "which reminder"),
    entry("reminders_sent", "ends_at", C::ConnectionData, REMIND, R::Account, "the subscription end it was about"),
    entry("reminders_sent", "sent_at", C::ConnectionData, REMIND, R::Account, "when it was sent"),
    entry("conversations", "user_id", C::Account, &[P::Identification, P::Support], R::Account, "whose conversation"),
    entry("conversations", "state", C::Account, &[P::Identification, P::Support], R::Account, "where the person is in a dialogue with the bot"),
    entry("conversations", "updated_at", C::Account, &[P::Identification, P::Support], R::Account, "when the dialogue last moved"),
    entry("support_tickets", "id", C::Support, SUPPORT, R::SupportTicket, "ticket number"),
    entry("support_tickets", "user_id", C::Account, SUPPORT, R::SupportTicket, "who opened it"),
    entry("support_tickets", "opened_at", C::Support, SUPPORT, R::SupportTicket, "when it was opened"),
    entry("support_tickets", "updated_at", C::Support, SUPPORT, R::SupportTicket, "when it last had a message"),
    entry("support_messages", "id", C::Support, SUPPORT, R::SupportTicket, "message number"),
    entry("support_messages", "ticket_id", C::Support, SUPPORT, R::SupportTicket, "its ticket"),
    entry("support_messages", "from_operator", C::Support, SUPPORT, R::SupportTicket, "whether the operator wrote it"),
    entry("support_messages", "body", C::Support, SUPPORT, R::SupportTicket, "the message text"),
    entry("support_messages", "created_at", C::Support, SUPPORT, R::SupportTicket, "when it was written"),
    entry("support_messages", "relay_chat_id", C::Support, SUPPORT, R::SupportTicket, "the operator's support chat it was copied to"),
    entry("support_messages", "relay_message_id", C::Support, SUPPORT, R::SupportTicket, "the copy's message number there"),
];

/// Every column that holds no personal data.
pub const NOT_PERSONAL: &[NotPersonal] = &[
    not_personal("meta", "key", "name of a service-wide counter"),
    not_personal("meta", "value", "a service-wide counter"),
    not_personal("nodes", "id", "the operator's server"),
    not_personal("nodes", "name", "the operator's server"),
    not_personal("nodes", "location", "the operator's server"),
    not_personal("nodes", "public_host", "the operator's server"),
    not_personal("nodes", "port", "the operator's server"),
    not_personal("nodes", "security", "the operator's server"),
    not_personal("nodes", "kind", "the operator's server"),
    not_personal("nodes", "enabled", "the operator's server"),
    not_personal("nodes", "position", "the operator's server"),
    not_personal("nodes", "via_node_id", "the operator's server"),
    not_personal(
        "nodes",
        "credential_sha256",
        "the operator's server's key fingerprint",
    ),
    not_personal("nodes", "private_settings", "the operator's server's keys"),
    not_personal(
        "nodes",
        "chain_key",
        "an entry server's key towards its exit server",
    ),
    not_personal(
        "node_join_tokens",
        "token_sha256",
        "hash of a one-time enrolment secret",
    ),
    not_personal("node_join_tokens", "node_id", "the operator's server"),
    not_personal(
        "node_join_tokens",
        "expires_at",
        "when the enrolment secret stops working",
    ),
    not_personal(
        "node_join_tokens",
        "used_at",
        "when the enrolment secret was used",
    ),
    not_personal("node_status", "node_id", "the operator's server"),
    not_personal("node_status", "software_version", "the operator's server"),
    not_personal("node_status", "applied_revision", "a counter"),
    not_personal(
        "node_status",
        "connections",
        "open connections on a server, all users together",
    ),
    not_personal(
        "node_status",
        "bytes_up",
        "bytes carried by a server, all users together",
    ),
    not_personal(
        "node_status",
        "bytes_down",
        "bytes carried by a server, all users together",
    ),
    not_personal(
        "node_status",
        "last_seen_at",
        "when the server last reported",
    ),
    not_personal("node_alerts", "node_id", "the operator's server"),
    not_personal(
        "node_alerts",
        "offline_alerted",
        "whether the admins were told a server is offline",
    ),
    not_personal(
        "node_alerts",
        "behind_revision",
        "a counter a server had not reached",
    ),
    not_personal(
        "node_alerts",
        "behind_since",
        "when a server was first seen behind",
    ),
    not_personal(
        "node_alerts",
        "behind_alerted",
        "whether the admins were told a server is behind",
    ),
    not_personal("node_alerts", "version", "a counter"),
    not_personal("promo_codes", "id", "a promo code's number"),
    not_personal("promo_codes", "code", "the operator's promo code"),
    not_personal("promo_codes", "kind", "free days or a discount"),
    not_personal("promo_codes", "amount", "how many days or percent"),
    not_personal("promo_codes", "plan", "the plan it is limited to"),
    not_personal("promo_codes", "max_uses", "the operator's limit"),
    not_personal("promo_codes", "valid_until", "when it stops working"),
    not_personal(
        "promo_codes",
        "disabled",
        "whether the operator turned it off",
    ),
    not_personal(
        "promo_codes",
        "uses",
        "how often it was used, everyone together (a count)",
    ),
    not_personal("promo_codes", "created_at", "when the operator made it"),
    not_personal("broadcasts", "id", "a broadcast's number"),
    not_personal(
        "broadcasts",
        "created_at",
        "when an admin started a broadcast",
    ),
    not_personal(
        "broadcasts",
        "audience",
        "which group it is for (all, active, ...)",
    ),
    not_personal(
        "broadcasts",
        "body",
        "the admins' announcement to everyone in the group, about the service",
    ),
    not_personal(
        "broadcasts",
        "cursor_user_id",
        "how far the sending got: an internal number, no more than a counter",
    ),
    not_personal("broadcasts", "recipients", "a count"),
    not_personal("broadcasts", "sent", "a count"),
    not_personal("broadcasts", "failed", "a count"),
    not_personal("broadcasts", "blocked", "a count"),
    not_personal(
        "broadcasts",
        "expired_days",
        "the N of an \"expired in the last N days\" audience",
    ),
    not_personal("broadcasts", "finished_at", "when the sending ended"),
    not_personal("control_plane", "id", "the one row"),
    not_personal(
        "control_plane",
        "certificate_pem",
        "the control plane's certificate",
    ),
    not_personal(
        "control_plane",
        "private_key_pem",
        "the control plane's key",
    ),
    not_personal(
        "control_plane",
        "feed_epoch",
        "a random id of the access revisions",
    ),
    not_personal(
        "trial_claims",
        "claim_key",
        "keyed one-way hash of a Telegram id (key only in the data directory); kept after \
         deletion so a trial is taken once, and links to no stored record",
    ),
    not_personal(
        "trial_claims",
        "claimed_at",
        "belongs to an unlinkable claim key",
    ),
    not_personal(
        "referral_claims",
        "claim_key",
        "keyed one-way hash of a Telegram id (key only in the data directory, another domain \
         than the trial's); kept after deletion so a person is referred once, and links to no \
         stored record",
    ),
    not_personal(
        "referral_claims",
        "claimed_at",
        "belongs to an unlinkable claim key",
    ),
    not_personal(
        "access_tombstones",
        "vless_uuid",
        "a random id that no longer grants access and links to no stored record; pruned",
    ),
    not_personal("access_tombstones", "revision", "a counter"),
    not_personal(
        "access_tombstones",
        "removed_at",
        "when the id stopped working; pruned",
    ),
    not_personal(
        "bot_updates",
        "update_id",
        "Telegram's update counter; pruned after days",
    ),
    not_personal(
        "bot_updates",
        "received_at",
        "when an update arrived; pruned after days",
    ),
];

/// The personal-data entry for `table.column`, if it is one.
pub fn entry_for(table: &str, column: &str) -> Option<&'static Entry> {
    ENTRIES
        .iter()
        .find(|e| e.table == table && e.column == column)
}

/// Whether `table.column` is declared at all, personal or not.
pub fn is_declared(table: &str, column: &str) -> bool {
    entry_for(table, column).is_some()
        || NOT_PERSONAL
            .iter()
            .any(|n| n.table == table && n.column == column)
}

/// Declarations that disagree with `schema` (table name and its columns, as the database
/// reports them): columns nobody classified, and declarations of columns that do not exist.
/// Empty when the inventory and the schema match exactly.
pub fn compare_with_schema(schema: &[(String, Vec<String>)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (table, columns) in schema {
        for column in columns {
            if !is_declared(table, column) {
                problems.push(format!(
                    "{table}.{column} is in the schema but not in the inventory: classify it"
                ));
            }
        }
    }
    let exists = |table: &str, column: &str| {
        schema
            .iter()
            .any(|(t, cols)| t == table && cols.iter().any(|c| c == column))
    };
    let declared = ENTRIES
        .iter()
        .map(|e| (e.table, e.column))
        .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)));
    for (table, column) in declared {
        if !exists(table, column) {
            problems.push(format!(
                "{table}.{column} is in the inventory but not in the schema"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
            .collect()
    }

    /// The schema exactly as the inventory declares it.
    fn declared_schema() -> Vec<(String, Vec<String>)> {
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        let all = ENTRIES
            .iter()
            .map(|e| (e.table, e.column))
            .chain(NOT_PERSONAL.iter().map(|n| (n.table, n.column)));
        for (table, column) in all {
            match tables.iter_mut().find(|(t, _)| t == table) {
                Some((_, cols)) => cols.push(column.to_owned()),
                None => tables.push((table.to_owned(), vec![column.to_owned()])),
            }
        }
        tables
    }

    #[test]
    fn no_column_is_declared_twice() {
        let mut seen = std::collections::HashSet::new();
        for e in ENTRIES {
            assert!(seen.insert((e.table, e.column)), "{}.{}", e.table, e.column);
        }
        for n in NOT_PERSONAL {
            assert!(seen.insert((n.table, n.column)), "{}.{}", n.table, n.column);
        }
    }

    #[test]
    fn every_personal_column_has_a_purpose() {
        for e in ENTRIES {
            assert!(!e.purposes.is_empty(), "{}.{}", e.table, e.column);
        }
    }

    #[test]
    fn every_category_of_the_policy_is_stored_somewhere() {
        for c in Category::ALL {
            assert!(ENTRIES.iter().any(|e| e.category == c), "{c:?}");
        }
    }

    #[test]
    fn a_schema_matching_the_inventory_has_no_problems() {
        assert_eq!(
            compare_with_schema(&declared_schema()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_undeclared_column_is_reported() {
        let mut s = declared_schema();
        s[0].1.push("phone_number".into());
        let problems = compare_with_schema(&s);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("phone_number"));
    }

    #[test]
    fn a_declared_column_the_schema_lacks_is_reported() {
        let problems = compare_with_schema(&schema(&[("users", &["id"])]));
        assert!(problems.iter().any(|p| p.contains("users.email")));
        assert!(!problems.iter().any(|p| p.starts_with("users.id ")));
    }

    #[test]
    fn card_data_is_never_declared() {
        for e in ENTRIES {
            assert!(!e.column.contains("card"), "{}.{}", e.table, e.column);
        }
    }

    #[test]
    fn retention_descriptions_name_the_configured_days() {
        assert!(Retention::Account.describe(1095).contains("1095 days"));
        assert!(Retention::SupportTicket
            .describe(1)
            .contains(&SUPPORT_TICKET_RETENTION_DAYS.to_string()));
        assert!(Retention::AccountLink
            .describe(1)
            .contains(&format!("{ACCOUNT_LINK_LIFETIME_MINUTES} minutes")));
    }
}
