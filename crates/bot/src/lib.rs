//! milly's Telegram bot storefront: consent before anything is stored, the main menu, the free
//! trial, My subscription (link, QR code, per-platform guides, token rotation), buying with
//! Telegram Stars, support tickets relayed to the operator, the person's data rights, reminders
//! before a subscription ends, admin commands, and alerts to the admins when a remote node goes
//! offline or falls behind (and when it is back).
//!
//! It talks to the Bot API over long polling (or a webhook) through `teloxide-core`; updates
//! from different people are handled concurrently, each person's in order ([`lanes`]), and
//! pre-checkout queries on a fast path; `[telegram] api_url` points it at another server (a
//! local Bot API server, or the `tg-emulator` in tests).
//!
//! **Invariants.** Nothing about a person is stored before they press "I agree" (see
//! [`onboarding`]). An update delivered twice acts once (`App::claim_update`). No message text,
//! name or username is ever logged: handlers log counts and kinds only.
#![forbid(unsafe_code)]

mod account;
mod account_link;
mod admin;
mod admin_login;
mod announce;
mod broadcasts;
mod callback;
mod ctx;
mod dispatch;
mod fetch;
mod guides;
mod incoming;
mod intake;
mod invite_texts;
mod invites;
mod lanes;
mod metrics;
mod node_alerts;
mod node_health;
mod offset;
mod onboarding;
mod payments;
mod polling;
mod promo;
mod promo_texts;
mod qr;
mod reminders;
mod screens;
mod support;
mod telegram;
mod texts;
mod trial_key;
mod webhook;

pub use announce::{announce_gift, announce_payment, announce_renewal, announce_to_admins};
pub use metrics::BotMetrics;
pub use telegram::TgError;
pub use trial_key::{TrialKey, WeakTrialKey};
pub use webhook::{webhook_router, SECRET_HEADER};

use std::time::Duration;

use app::App;
use domain::Secret;
use teloxide_core::Bot;
use tokio_util::sync::CancellationToken;

/// How long one `getUpdates` call waits for news.
const POLL_TIMEOUT: Duration = Duration::from_secs(25);
/// How long the HTTP client waits for any Bot API answer (longer than a poll).
const HTTP_TIMEOUT: Duration = Duration::from_secs(40);

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("the [telegram] token is not set")]
    NoToken,
    #[error("the [telegram] api_url is not a URL")]
    BadApiUrl,
    #[error("the [telegram] webhook_url is not a URL")]
    BadWebhookUrl,
    #[error("cannot build the HTTP client")]
    Client,
    #[error(transparent)]
    Telegram(#[from] TgError),
    #[error(transparent)]
    App(#[from] app::AppError),
    #[error("shutting down")]
    Cancelled,
}

/// What `[telegram]` in `milly.toml` says about the bot; `milly` builds it, so the bot never
/// reads the configuration itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSettings {
    /// The bot's token from @BotFather.
    pub token: Secret,
    /// The Bot API server: `https://api.telegram.org`, a local one, or an emulator in tests.
    pub api_url: String,
    /// Where Telegram delivers updates in webhook mode; empty means long polling.
    pub webhook_url: String,
    /// Reminders this many days before a subscription ends (plus one when it ends).
    pub reminder_days: Vec<u32>,
}

/// How the bot runs: its settings, and what `milly.toml` does not say.
#[derive(Debug, Clone)]
pub struct BotOptions {
    pub settings: BotSettings,
    /// The secret behind trial claim keys.
    pub trial_key: TrialKey,
    /// How often reminders are looked for.
    pub reminder_interval: Duration,
    /// How often the remote nodes are looked at for alerts (offline, behind, back).
    pub node_check_interval: Duration,
    /// The intake's counters (unreadable, shed, in flight), shared by polling and the webhook.
    pub metrics: BotMetrics,
}

impl BotOptions {
    pub fn new(settings: BotSettings, trial_key: TrialKey) -> Self {
        Self {
            settings,
            trial_key,
            reminder_interval: Duration::from_secs(15 * 60),
            // Well inside the grace periods of `app::OFFLINE_ALERT_AFTER` and
            // `app::BEHIND_ALERT_AFTER`, for a handful of small queries.
            node_check_interval: Duration::from_secs(10),
            metrics: BotMetrics::default(),
        }
    }
}

/// Runs the bot until `shutdown` is cancelled: registers the commands, then either polls for
/// updates (the default) or, with `[telegram] webhook_url`, registers the webhook and leaves the
/// updates to [`webhook_router`] mounted by the website. Reminders and node alerts run on the
/// side either way (the bot runs only in the leading process, so they do too).
pub async fn run(
    app: App,
    options: BotOptions,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let webhook = webhook::webhook_url(&options.settings)?;
    let ctx = context(app, &options, shutdown.clone())?;
    polling::prepare(&ctx, webhook.is_none()).await;
    let reminders = tokio::spawn(reminders::run(
        ctx.clone(),
        options.reminder_interval,
        options.settings.reminder_days.clone(),
        shutdown.clone(),
    ));
    let node_alerts = tokio::spawn(node_alerts::run(
        ctx.clone(),
        options.node_check_interval,
        shutdown.clone(),
    ));
    let broadcasts = tokio::spawn(broadcasts::run(ctx.clone(), shutdown.clone()));
    let result = match webhook {
        None => polling::run(&ctx, options.metrics.clone(), shutdown.clone()).await,
        Some(url) => match webhook::register(&ctx, url).await {
            Ok(()) => {
                shutdown.cancelled().await;
                Ok(())
            }
            Err(err) => Err(err),
        },
    };
    shutdown.cancel();
    if reminders.await.is_err() {
        tracing::warn!("the reminder task ended abnormally");
    }
    if node_alerts.await.is_err() {
        tracing::warn!("the node alert task ended abnormally");
    }
    if broadcasts.await.is_err() {
        tracing::warn!("the broadcast task ended abnormally");
    }
    tracing::info!("bot stopped");
    match result {
        Err(BotError::Cancelled) => Ok(()),
        other => other,
    }
}

/// The handlers' context: the Bot API client pointed at `[telegram] api_url`.
fn context(
    app: App,
    options: &BotOptions,
    shutdown: CancellationToken,
) -> Result<ctx::Ctx, BotError> {
    Ok(ctx::Ctx {
        tg: client(&options.settings, shutdown)?,
        app,
        trial_key: options.trial_key.clone(),
    })
}

fn client(
    telegram: &BotSettings,
    shutdown: CancellationToken,
) -> Result<telegram::Telegram, BotError> {
    if !telegram.token.is_set() {
        return Err(BotError::NoToken);
    }
    let api_url: url::Url = telegram.api_url.parse().map_err(|_| BotError::BadApiUrl)?;
    let client = teloxide_core::net::default_reqwest_settings()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|_| BotError::Client)?;
    let bot = Bot::with_client(telegram.token.expose(), client).set_api_url(api_url);
    Ok(telegram::Telegram::new(bot, shutdown))
}

/// The bot's @username as Telegram knows it (`getMe`), e.g. for the website's "open the bot"
/// button; `None` if the bot has none.
pub async fn username(settings: &BotSettings) -> Result<Option<String>, BotError> {
    let tg = client(settings, CancellationToken::new())?;
    let me = tg
        .call(teloxide_core::requests::Requester::get_me(tg.bot()))
        .await?;
    Ok(me.user.username.clone())
}
