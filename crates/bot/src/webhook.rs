//! Webhook mode (`[telegram] webhook_url`): Telegram POSTs each update to the website, which
//! mounts [`webhook_router`]; [`crate::run`] registers the webhook (with a secret header and one
//! connection at a time, so updates arrive in order) instead of polling. Each update is
//! acknowledged as soon as it is claimed and queued in its sender's lane (see [`crate::intake`]),
//! so Telegram's next delivery is not held up by this one's handling; a successful payment is
//! acknowledged only once credited, so Telegram delivers it again after a crash.

use std::sync::Arc;

use app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::value::RawValue;
use teloxide_core::payloads::SetWebhookSetters as _;
use teloxide_core::requests::Requester as _;
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::incoming::{read_update, Incoming};
use crate::intake::{Accepted, Intake};
use crate::{context, BotError, BotOptions, BotSettings};

/// The header Telegram sends with the secret given to `setWebhook`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The webhook's URL and path, from `[telegram] webhook_url`.
pub(crate) fn webhook_url(settings: &BotSettings) -> Result<Option<url::Url>, BotError> {
    let raw = settings.webhook_url.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| BotError::BadWebhookUrl)
}

/// Registers the webhook with Telegram.
pub(crate) async fn register(ctx: &Ctx, url: url::Url) -> Result<(), BotError> {
    let request = ctx
        .tg
        .bot()
        .set_webhook(url)
        .secret_token(ctx.trial_key.webhook_secret())
        .max_connections(1);
    ctx.tg.call(request).await?;
    tracing::info!("webhook registered");
    Ok(())
}

struct Hook {
    intake: Intake,
    secret: String,
}

/// The route Telegram delivers updates to, at the path of `[telegram] webhook_url`. Requests
/// without the right secret header get 401; an update is acknowledged once claimed (an
/// unreadable one is counted and acknowledged; a failed claim gets 503 so Telegram tries later).
pub fn webhook_router(
    app: App,
    options: &BotOptions,
    shutdown: CancellationToken,
) -> Result<Router, BotError> {
    let url = webhook_url(&options.settings)?.ok_or(BotError::BadWebhookUrl)?;
    let ctx = context(app, options, shutdown)?;
    let hook = Arc::new(Hook {
        secret: ctx.trial_key.webhook_secret(),
        intake: Intake::new(ctx, options.metrics.clone()),
    });
    Ok(Router::new()
        .route(url.path(), post(receive))
        .with_state(hook))
}

async fn receive(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), hook.secret.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    let incoming = match std::str::from_utf8(&body)
        .ok()
        .and_then(|text| serde_json::from_str::<&RawValue>(text).ok())
    {
        Some(raw) => read_update(raw),
        None => Incoming::Unreadable { id: None },
    };
    let update = match incoming {
        Incoming::Update(update) => update,
        Incoming::Unreadable { id } => {
            hook.intake.unreadable(id);
            return StatusCode::OK;
        }
    };
    match hook.intake.accept(*update).await {
        Ok(Accepted::Claimed) => StatusCode::OK,
        Ok(Accepted::Held(credited)) => {
            // Resolves when handling ends, however it ended.
            let _ = credited.await;
            StatusCode::OK
        }
        Err(err) => {
            tracing::error!(error = %err, "a webhook update could not be claimed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
