//! The bot inside `milly serve`: its options, its username for the website, restarts after
//! failures, and notices of card payments settled by the website.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::{data_dir, settings};

/// How long startup waits for Telegram to say the bot's username.
const BOT_LOOKUP: Duration = Duration::from_secs(5);
/// Pause before restarting a bot that failed.
const BOT_RESTART: Duration = Duration::from_secs(30);

/// The bot's settings when a token is set; its trial secret lives in the data directory.
pub fn bot_options(config: &config::Config) -> Result<Option<bot::BotOptions>> {
    if !config.telegram.token.is_set() {
        return Ok(None);
    }
    let dir = &config.service.data_dir;
    let secret = data_dir::read_or_create(dir, "trial.key", data_dir::random_secret)?;
    let trial_key = bot::TrialKey::new(secret.trim().as_bytes().to_vec())
        .context("the trial secret in the data directory is too short")?;
    Ok(Some(bot::BotOptions::new(settings::bot(config), trial_key)))
}

/// The bot's @username for the website's button; the site works without it.
pub async fn bot_username(settings: &bot::BotSettings) -> Option<String> {
    match tokio::time::timeout(BOT_LOOKUP, bot::username(settings)).await {
        Ok(Ok(name)) => name,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot learn the bot's username; the website shows no bot button");
            None
        }
        Err(_) => {
            tracing::warn!("Telegram did not answer in time; the website shows no bot button");
            None
        }
    }
}

/// The bot is restarted after a failure (Telegram unreachable, say) instead of taking the
/// node and the website down with it.
pub async fn run_bot(
    app: app::App,
    options: bot::BotOptions,
    shutdown: CancellationToken,
) -> Result<()> {
    loop {
        match bot::run(app.clone(), options.clone(), shutdown.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "Telegram bot failed; restarting in {}s", BOT_RESTART.as_secs())
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(BOT_RESTART) => {}
        }
    }
}

/// A card payment is settled by the website (webhook or reconciler); the person hears of it in
/// the bot, as they would for Stars.
pub async fn announce_card_payments(
    app: app::App,
    options: bot::BotOptions,
    mut paid: tokio::sync::broadcast::Receiver<app::CardPaid>,
    shutdown: CancellationToken,
) -> Result<()> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            event = paid.recv() => event,
        };
        match event {
            Ok(event) => {
                let sent =
                    bot::announce_payment(app.clone(), &options, event.user, shutdown.clone())
                        .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not tell a person in the bot that their card payment arrived");
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "card payment notices were dropped while the bot was slow"
                );
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// A gift bought by card is paid: its buyer gets the code in the bot (only they see it).
pub async fn announce_card_gifts(
    app: app::App,
    options: bot::BotOptions,
    mut gifts: tokio::sync::broadcast::Receiver<app::GiftPaid>,
    shutdown: CancellationToken,
) -> Result<()> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            event = gifts.recv() => event,
        };
        match event {
            Ok(event) => {
                let sent = bot::announce_gift(
                    app.clone(),
                    &options,
                    event.buyer,
                    event.code,
                    shutdown.clone(),
                )
                .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not show a gift's buyer its code in the bot");
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "gift notices were dropped while the bot was slow");
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// Auto-renewal's notices (a declined charge, a stop) are raised by the leader's renewal job;
/// the person hears of them in the bot.
pub async fn announce_renewal_notices(
    app: app::App,
    options: bot::BotOptions,
    mut notices: tokio::sync::broadcast::Receiver<app::RenewalNotice>,
    shutdown: CancellationToken,
) -> Result<()> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            event = notices.recv() => event,
        };
        match event {
            Ok(notice) => {
                let sent =
                    bot::announce_renewal(app.clone(), &options, &notice, shutdown.clone()).await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not tell a person about their auto-renewal");
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "auto-renewal notices were dropped while the bot was slow"
                );
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// A card payment succeeded after its payer erased their account and was refunded: the admins
/// hear of it in the bot (its number and amount only; the payer is gone).
pub async fn announce_erased_refunds(
    app: app::App,
    options: bot::BotOptions,
    mut refunds: tokio::sync::broadcast::Receiver<app::ErasedPayerRefund>,
    shutdown: CancellationToken,
) -> Result<()> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            event = refunds.recv() => event,
        };
        match event {
            Ok(event) => {
                let text = erased_refund_notice(&event);
                let sent =
                    bot::announce_to_admins(app.clone(), &options, &text, shutdown.clone()).await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not tell the admins about an automatic refund");
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "automatic refund notices were dropped while the bot was slow"
                );
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// The admins' notice: the payment's number and amount, nothing about the payer.
pub fn erased_refund_notice(event: &app::ErasedPayerRefund) -> String {
    format!(
        "Card payment #{} ({}.{:02} {}) succeeded after its payer erased their account; \
         it was refunded automatically through YooKassa.",
        event.payment.0,
        event.amount.minor / 100,
        event.amount.minor % 100,
        event.amount.currency.code()
    )
}
