//! `getUpdates` over plain HTTP, on the same client, URL and token `teloxide-core` uses, so the
//! answer can be read update by update ([`crate::incoming`]) instead of all or nothing. Errors
//! are described by kind only: the request URL holds the token.

use std::time::Duration;

use serde::Serialize;
use teloxide_core::Bot;

use crate::incoming::{read_answer, Answer, Incoming};

/// How many updates one call may return (Telegram's maximum).
const BATCH_LIMIT: u32 = 100;

#[derive(Serialize)]
struct GetUpdates {
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i64>,
    limit: u32,
    timeout: u64,
}

/// Why a fetch brought no updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchError {
    /// Telegram asked to wait this long.
    RetryAfter(Duration),
    /// The network, Telegram or its answer failed; `kind` names which.
    Failed { kind: &'static str },
}

/// One long poll: updates with ids from `offset` on (confirming everything below it), waiting
/// up to `wait` for news.
pub async fn get_updates(
    bot: &Bot,
    offset: Option<i64>,
    wait: Duration,
) -> Result<Vec<Incoming>, FetchError> {
    let mut url = bot.api_url();
    // As `teloxide-core` builds method URLs, so a base URL with a path works the same.
    url.path_segments_mut()
        .map_err(|()| FetchError::Failed { kind: "api_url" })?
        .push(&format!("bot{}", bot.token()))
        .push("getUpdates");
    let body = GetUpdates {
        offset,
        limit: BATCH_LIMIT,
        timeout: wait.as_secs(),
    };
    let response = bot
        .client()
        .post(url)
        .json(&body)
        // The client's own timeout is longer than a poll; say so explicitly anyway.
        .timeout(wait + Duration::from_secs(10))
        .send()
        .await
        .map_err(|_| FetchError::Failed { kind: "network" })?;
    let text = response
        .text()
        .await
        .map_err(|_| FetchError::Failed { kind: "network" })?;
    match read_answer(&text) {
        Answer::RetryAfter(secs) => Err(FetchError::RetryAfter(Duration::from_secs(secs))),
        Answer::Failed => Err(FetchError::Failed {
            kind: "refused or unreadable",
        }),
        Answer::Updates(updates) => Ok(updates),
    }
}
