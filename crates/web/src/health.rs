//! `GET /healthz`, for load balancers, container health checks and the operator: the build and,
//! when the site has its use cases, whether the database answers at the schema this build
//! expects (503 otherwise). No token: it says nothing about users, only what `milly version`
//! prints.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

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
    let schema = match tokio::time::timeout(DATABASE_TIMEOUT, app.schema_version()).await {
        Ok(Ok(schema)) => schema,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: the database did not answer");
            return unavailable("database unavailable", build, None);
        }
        Err(_) => return unavailable("database unavailable", build, None),
    };
    let versions = json!({ "applied": schema.applied, "expected": schema.known });
    if !schema.is_current() {
        // Another process (a newer milly) moved the shared database past this build.
        return unavailable("schema mismatch", build, Some(versions));
    }
    let body = json!({ "status": "ok", "build": build, "schema": versions });
    (StatusCode::OK, Json(body)).into_response()
}

fn unavailable(status: &str, build: Value, schema: Option<Value>) -> Response {
    let mut body = json!({ "status": status, "build": build });
    if let Some(schema) = schema {
        body["schema"] = schema;
    }
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
