//! What the website needs from the operator's configuration, as plain values: `milly` builds it
//! once from `milly.toml`, so `web` never reads the configuration itself.

use client_identity::ClientIdentity;
use domain::{Plan, PublicUrl};

#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// The service's name, as the pages show it.
    pub service_name: String,
    /// Where people reach the website; links and the `Secure` cookie flag follow from it.
    pub public_url: PublicUrl,
    /// The operator's legal name; empty when not configured.
    pub operator: String,
    /// Support email; empty when none.
    pub support_email: String,
    /// Support Telegram account, as the operator wrote it (`@name`, `t.me/name`, …).
    pub support_telegram: String,
    /// The plans the home page lists (those with a price).
    pub plans: Vec<Plan>,
    /// Days of the free trial; 0 means no trial.
    pub trial_days: u32,
    /// Who a request comes from, for every rate limit and the webhook's sender check.
    pub client_identity: ClientIdentity,
    /// The binary serving the site, as `/healthz` names it.
    pub build: Build,
}

/// A build of milly: its version and the commit it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub version: String,
    pub commit: String,
}

impl Default for Build {
    fn default() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: "unknown".to_owned(),
        }
    }
}

/// What an untouched `milly.toml` gives, for tests and examples: the service, plans and trial
/// of [`app::AppSettings::default`], no contacts, every request from its TCP peer.
impl Default for SiteSettings {
    fn default() -> Self {
        let app = app::AppSettings::default();
        Self {
            service_name: app.service_name,
            public_url: app.public_url,
            operator: String::new(),
            support_email: String::new(),
            support_telegram: String::new(),
            plans: app.plans,
            trial_days: app.trial_days,
            client_identity: ClientIdentity::default(),
            build: Build::default(),
        }
    }
}
