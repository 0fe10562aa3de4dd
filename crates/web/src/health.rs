//! `GET /healthz`, for load balancers, container health checks and the operator: the build and,
//! when the site has its use cases, whether the database answers at the schema this build
//! expects (503 otherwise). No token: it says nothing about users, only what `milly version`
//! prints.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::Site;

/// A database that takes longer than this to answer counts as down.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn show(State(site): State<Site>) -> Response {
    let settings = site.settings();
    let build = json!({ "version": settings.build.version, "commit": settings.build.commit });
    let Some(app) = site.app() else {
        return (
            StatusCode::OK,
            Json(json!({ "status": "ok", "build": build })),
        )
            .into_response();
    };
    let (status, body) = match tokio::time::timeout(DATABASE_TIMEOUT, app.schema_version()).await {
        Ok(Ok(schema)) => {
            let schema = json!({ "applied": schema.applied, "expected": schema.known });
            if schema["applied"] == schema["expected"] {
                (
                    StatusCode::OK,
                    json!({ "status": "ok", "build": build, "schema": schema }),
                )
            } else {
                // Another process (a newer milly) moved the shared database past this build.
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "status": "schema mismatch", "build": build, "schema": schema }),
                )
            }
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: the database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "database unavailable", "build": build }),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "database unavailable", "build": build }),
        ),
    };
    (status, Json(body)).into_response()
}
