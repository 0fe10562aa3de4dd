//! What the use cases need from the operator's configuration, as plain values: `milly` builds
//! it once from `milly.toml`, so `app` never reads the configuration itself.

use std::path::PathBuf;

use billing::telegram_stars::BotApi;
use billing::YooKassaSettings;
use domain::{Days, Money, Plan, PlanId, PublicUrl};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    /// The service's name, in payment descriptions and the bot's texts.
    pub service_name: String,
    /// The website's address; every link the use cases hand out is joined under it.
    pub public_url: PublicUrl,
    /// Every plan, in the operator's order; which are sold for Stars or by card is decided here.
    pub plans: Vec<Plan>,
    /// Days of the free trial; 0 means no trial.
    pub trial_days: u32,
    /// `[referrals]`: links and their rewards.
    pub referrals: ReferralSettings,
    /// Plans are sold for Telegram Stars.
    pub stars_enabled: bool,
    /// The YooKassa shop; `enabled` turns card payments on.
    pub yookassa: YooKassaSettings,
    /// A 54-FZ receipt goes with each card payment.
    pub receipts: bool,
    /// Where receipts go when the person gave no email; empty means nowhere.
    pub receipt_email: String,
    /// The bot, for refunding Stars payments.
    pub bot_api: BotApi,
    /// Telegram ids of the operator's admins.
    pub admins: Vec<i64>,
    /// The chat support questions go to; 0 means each admin.
    pub support_chat_id: i64,
    /// Days a person's data is kept after their last subscription ends.
    pub retention_days: u32,
    pub backup: BackupSettings,
}

/// Referral links and what a newcomer's first payment earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralSettings {
    pub enabled: bool,
    /// Days for the referrer; 0 = none.
    pub reward_days: u32,
    /// Days for the newcomer; 0 = none.
    pub welcome_days: u32,
}

impl Default for ReferralSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            reward_days: 7,
            welcome_days: 0,
        }
    }
}

/// Scheduled and on-demand backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSettings {
    /// Where scheduled backups are written.
    pub dir: PathBuf,
    /// How many scheduled backups are kept.
    pub keep: u32,
    /// age public keys backups are encrypted to; none means no backups.
    pub recipients: Vec<String>,
    /// Hours between scheduled backups; 0 turns scheduling off.
    pub interval_hours: u32,
}

/// What an untouched `milly.toml` gives, for tests and examples (`milly`'s tests check that the
/// two agree); no payment provider is reachable.
impl Default for AppSettings {
    fn default() -> Self {
        let plan = |id: &str, days: u32, kopecks: i64, stars: i64| Plan {
            id: PlanId(id.to_owned()),
            days: Days(days),
            price_rub: Some(Money::rub_kopecks(kopecks)),
            price_stars: Some(Money::stars(stars)),
        };
        Self {
            service_name: "milly".into(),
            public_url: PublicUrl::default(),
            plans: vec![
                plan("month", 30, 19_900, 100),
                plan("quarter", 90, 49_900, 250),
            ],
            trial_days: 3,
            referrals: ReferralSettings::default(),
            stars_enabled: true,
            yookassa: YooKassaSettings::default(),
            receipts: false,
            receipt_email: String::new(),
            bot_api: BotApi::default(),
            admins: Vec::new(),
            support_chat_id: 0,
            retention_days: 1095,
            backup: BackupSettings {
                dir: PathBuf::from("./milly-data/backups"),
                keep: 7,
                recipients: Vec::new(),
                interval_hours: 24,
            },
        }
    }
}
