//! The HTTP side: `/bot<token>/<method>` with GET or POST, parameters from the query string and
//! a JSON, form or multipart body, answered `{"ok":true,"result":...}` or Telegram's error shape.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::failures::error;
use crate::state::{Call, State};
use crate::{Params, UploadedFile};

/// Largest request body accepted (Telegram's own limit for uploads is larger; tests need less).
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/{bot_token}/{method}", any(handle))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    Path((bot_token, method)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    request: Request,
) -> Response {
    if bot_token.strip_prefix("bot") != Some(state.token.as_str()) {
        return reply(error(401, "Unauthorized"));
    }
    let method = methods::canonical(&method).to_owned();
    let mut params = Params::from_pairs(query);
    let (body, files) = match read_body(request).await {
        Ok(parsed) => parsed,
        Err(description) => return reply(error(400, &description)),
    };
    params.extend(body);
    let at = Instant::now();
    if method == "getUpdates" {
        return answer(&state, method, params, files, at).await;
    }
    let _in_progress = state.call_started();
    answer(&state, method, params, files, at).await
}

/// Answers a call (once its chat is not held) and records it.
async fn answer(
    state: &State,
    method: String,
    params: Params,
    files: Vec<UploadedFile>,
    at: Instant,
) -> Response {
    state.wait_unheld(params.i64("chat_id")).await;
    let failure = state.take_failure(&method, params.i64("chat_id"));
    let answer = match failure {
        Some(failure) => failure.response(),
        None if method == "getUpdates" => match methods::get_updates(state, &params).await {
            Ok(updates) => {
                // Assembled as text: an injected update may be JSON no library would write.
                let body = format!(r#"{{"ok":true,"result":[{}]}}"#, updates.join(","));
                return raw_reply(body);
            }
            Err((code, description)) => error(code, &description),
        },
        None => match methods::call(state, &method, &params, &files).await {
            Ok(result) => (200, json!({ "ok": true, "result": result })),
            Err((code, description)) => error(code, &description),
        },
    };
    // Recorded once its effect (a stored message, an edit) is visible to the test.
    state.record_call(Call {
        method,
        params,
        files,
        failed: answer.0 != 200,
        at,
    });
    reply(answer)
}

fn raw_reply(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn reply((status, body): (u16, Value)) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// Parameters and uploaded files from the body, by its content type.
async fn read_body(request: Request) -> Result<(Params, Vec<UploadedFile>), String> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(request).await;
    }
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|e| format!("Bad Request: {e}"))?;
    if bytes.is_empty() {
        return Ok((Params::default(), Vec::new()));
    }
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok((Params(map), Vec::new())),
            _ => Err("Bad Request: can't parse JSON object".into()),
        };
    }
    let pairs: Vec<(String, String)> = url_pairs(&bytes);
    Ok((Params::from_pairs(pairs), Vec::new()))
}

async fn read_multipart(request: Request) -> Result<(Params, Vec<UploadedFile>), String> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| format!("Bad Request: {e}"))?;
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("Bad Request: {e}"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| format!("Bad Request: {e}"))?;
        if file_name.is_some() {
            files.push(UploadedFile {
                field: name,
                file_name,
                bytes: bytes.to_vec(),
            });
        } else {
            pairs.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((Params::from_pairs(pairs), files))
}

/// `application/x-www-form-urlencoded` pairs.
fn url_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(bytes)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

mod methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_percent_decoded() {
        let pairs = url_pairs(b"chat_id=5&text=hello+world%21&x");
        assert_eq!(
            pairs,
            vec![
                ("chat_id".into(), "5".into()),
                ("text".into(), "hello world!".into()),
                ("x".into(), String::new()),
            ]
        );
    }
}
