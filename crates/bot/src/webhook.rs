//! Webhook mode (`[telegram] webhook_url`): Telegram POSTs each update to the website, which
//! mounts [`webhook_router`]; [`crate::run`] registers the webhook (with a secret header and one
//! connection at a time, so updates stay in order) instead of polling.

use std::sync::Arc;

use app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use teloxide_core::payloads::SetWebhookSetters as _;
use teloxide_core::requests::Requester as _;
use teloxide_core::types::Update;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::{context, dispatch, BotError, BotOptions};

/// The header Telegram sends with the secret given to `setWebhook`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The webhook's URL and path, from `[telegram] webhook_url`.
pub(crate) fn webhook_url(app: &App) -> Result<Option<url::Url>, BotError> {
    let raw = app.config().telegram.webhook_url.trim();
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
    ctx: Ctx,
    secret: String,
    /// One update at a time, in the order they arrive.
    serial: Mutex<()>,
}

/// The route Telegram delivers updates to, at the path of `[telegram] webhook_url`. Requests
/// without the right secret header get 401; every update Telegram sends is acknowledged once
/// handled (a failure is logged, not retried forever).
pub fn webhook_router(
    app: App,
    options: &BotOptions,
    shutdown: CancellationToken,
) -> Result<Router, BotError> {
    let url = webhook_url(&app)?.ok_or(BotError::BadWebhookUrl)?;
    let ctx = context(app, options, shutdown)?;
    let hook = Arc::new(Hook {
        secret: ctx.trial_key.webhook_secret(),
        ctx,
        serial: Mutex::new(()),
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
    let Ok(update) = serde_json::from_slice::<Update>(&body) else {
        tracing::warn!("the webhook received an update it cannot read");
        return StatusCode::OK;
    };
    let _turn = hook.serial.lock().await;
    // Failures are logged inside; Telegram gets its 200 either way, so it does not redeliver.
    let _ = dispatch::handle_with_retries(&hook.ctx, update).await;
    StatusCode::OK
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
