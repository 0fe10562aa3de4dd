//! The emulator's HTTP routes: the API (`/v3/me`, `/v3/payments`, `/v3/refunds`) with basic auth and
//! idempotence keys, and a tiny hosted payment page at the confirmation URL.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::shapes::{self, EmulatedPayment, PaymentStatus};
use crate::state::{Inner, Recorded, State};

const PAYMENTS: &str = "POST /v3/payments";
const REFUNDS: &str = "POST /v3/refunds";

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v3/me", get(me))
        .route("/v3/payments", post(create_payment))
        .route("/v3/payments/{id}", get(get_payment))
        .route("/v3/refunds", post(create_refund))
        .route("/v3/refunds/{id}", get(get_refund))
        .route("/dashboard/payments/{id}/refunds", post(dashboard_refund))
        .route("/checkout/{id}", get(checkout_page).post(checkout_pay))
        .with_state(state)
}

/// An API error answer: YooKassa's error object with its HTTP status.
pub(crate) struct Refusal {
    status: StatusCode,
    body: Value,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

fn error(status: StatusCode, code: &str, description: &str, parameter: Option<&str>) -> Refusal {
    Refusal {
        status,
        body: shapes::error(code, description, parameter),
    }
}

fn bad_request(description: &str, parameter: &str) -> Refusal {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
        Some(parameter),
    )
}

/// Basic auth, the outage switch and the call counter, common to every API route.
fn admit(state: &State, headers: &HeaderMap) -> Result<(), Refusal> {
    let failing = {
        let mut inner = state.lock();
        inner.api_calls += 1;
        inner.failing
    };
    if failing {
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "Internal server error",
            None,
        ));
    }
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", state.shop_id, state.secret_key));
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if given != Some(expected.as_str()) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Login and password are incorrect",
            Some("Authorization"),
        ));
    }
    Ok(())
}

fn idempotence_key(headers: &HeaderMap) -> Result<String, Refusal> {
    match headers.get("idempotence-key").and_then(|v| v.to_str().ok()) {
        Some(k) if !k.is_empty() && k.len() <= 64 => Ok(k.to_owned()),
        _ => Err(bad_request(
            "Idempotence key is missing or invalid",
            "Idempotence-Key",
        )),
    }
}

/// The same key with the same body answers as the first time; with another body, an error.
fn replay(
    inner: &Inner,
    endpoint: &'static str,
    key: &str,
    body: &Value,
) -> Option<Result<Response, Refusal>> {
    let (first, status, response) = inner.idempotence.get(&(endpoint, key.to_owned()))?;
    if first != body {
        return Some(Err(bad_request(
            "Idempotence key duplicated with different request parameters",
            "Idempotence-Key",
        )));
    }
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
    Some(Ok((status, Json(response.clone())).into_response()))
}

/// Records a request to `endpoint` that was answered `response` (200), and keeps that answer
/// for the replays of `key`.
fn remember(inner: &mut Inner, endpoint: &'static str, key: String, req: Value, response: &Value) {
    inner.recorded.push(Recorded {
        endpoint,
        idempotence_key: key.clone(),
        body: req.clone(),
    });
    inner
        .idempotence
        .insert((endpoint, key), (req, 200, response.clone()));
}

fn parse_body(body: &Bytes) -> Result<Value, Refusal> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| bad_request("Request body is not a JSON object", "body"))
}

fn amount_of(v: &Value, parameter: &str) -> Result<(i64, String, String), Refusal> {
    let value = v["value"]
        .as_str()
        .ok_or_else(|| bad_request("Amount value must be a string", parameter))?;
    let minor = shapes::parse_minor(value)
        .filter(|m| *m > 0)
        .ok_or_else(|| bad_request("Invalid amount value", parameter))?;
    let currency = v["currency"].as_str().unwrap_or_default();
    if currency != "RUB" {
        return Err(bad_request("Unsupported currency", parameter));
    }
    Ok((minor, value.to_owned(), currency.to_owned()))
}

/// The 54-FZ receipt checks YooKassa makes: a customer contact, items summing to the amount.
fn check_receipt(receipt: &Value, total_minor: i64) -> Result<(), Refusal> {
    let customer = &receipt["customer"];
    if customer["email"].as_str().is_none() && customer["phone"].as_str().is_none() {
        return Err(bad_request(
            "Receipt needs the customer's email or phone",
            "receipt.customer",
        ));
    }
    let items = receipt["items"]
        .as_array()
        .filter(|i| !i.is_empty())
        .ok_or_else(|| bad_request("Receipt has no items", "receipt.items"))?;
    let mut sum = 0i64;
    for item in items {
        if item["description"].as_str().is_none_or(str::is_empty)
            || item["vat_code"].as_i64().is_none()
            || item["quantity"].as_str().is_none()
        {
            return Err(bad_request("Receipt item is incomplete", "receipt.items"));
        }
        let quantity = item["quantity"]
            .as_str()
            .and_then(shapes::parse_minor)
            .ok_or_else(|| bad_request("Invalid quantity", "receipt.items.quantity"))?;
        let (price, _, _) = amount_of(&item["amount"], "receipt.items.amount")?;
        sum += price * quantity / 100;
    }
    if sum != total_minor {
        return Err(bad_request(
            "Receipt items do not add up to the payment amount",
            "receipt.items",
        ));
    }
    Ok(())
}

async fn create_payment(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = match try_create_payment(&state, &headers, &body) {
        Ok(r) => r,
        Err(r) => r.into_response(),
    };
    if state.lock().losing_payment_answers {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "Internal server error",
            None,
        )
        .into_response();
    }
    answer
}

fn try_create_payment(
    state: &State,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, Refusal> {
    admit(state, headers)?;
    let key = idempotence_key(headers)?;
    let req = parse_body(body)?;
    // One lock from the replay check to the insert: two requests racing under one key get
    // one payment, as YooKassa guarantees.
    let mut inner = state.lock();
    if let Some(r) = replay(&inner, PAYMENTS, &key, &req) {
        return r;
    }
    let (minor, amount_value, currency) = amount_of(&req["amount"], "amount")?;
    if let Some(receipt) = req.get("receipt") {
        check_receipt(receipt, minor)?;
    }
    let method = payment_method_type(&req)?;
    let metadata = req.get("metadata").cloned().unwrap_or(json!({}));
    if !metadata.is_object() {
        return Err(bad_request("metadata must be an object", "metadata"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut payment = EmulatedPayment {
        confirmation_url: format!("{}/checkout/{id}", state.base_url),
        id: id.clone(),
        status: PaymentStatus::Pending,
        amount_value,
        currency,
        description: req["description"].as_str().map(str::to_owned),
        metadata,
        return_url: String::new(),
        created_at: OffsetDateTime::now_utc(),
        captured_at: None,
        refunded_minor: 0,
        method,
        save_method: false,
        method_id: uuid::Uuid::new_v4().to_string(),
        cancellation_reason: "insufficient_funds",
        cancellation_party: "payment_network",
    };
    if let Some(method) = req.get("payment_method_id") {
        // An autopayment: the saved method is charged at once, nobody confirms anything.
        let method = method
            .as_str()
            .and_then(|m| {
                inner
                    .methods
                    .get(m)
                    .map(|saved| (m.to_owned(), saved.clone()))
            })
            .ok_or_else(|| bad_request("Payment method is not saved", "payment_method_id"))?;
        let (method_id, saved) = method;
        payment.method_id = method_id;
        payment.save_method = true;
        if saved.revoked {
            payment.status = PaymentStatus::Canceled;
            payment.cancellation_reason = "permission_revoked";
            payment.cancellation_party = "yoo_money";
        } else if saved.holding {
            // Stays pending until the test succeeds or cancels it.
        } else if saved.declining {
            payment.status = PaymentStatus::Canceled;
        } else {
            payment.status = PaymentStatus::Succeeded;
            payment.captured_at = Some(OffsetDateTime::now_utc());
        }
    } else {
        let confirmation = &req["confirmation"];
        if confirmation["type"] != "redirect" {
            return Err(bad_request(
                "Only redirect confirmation is emulated",
                "confirmation.type",
            ));
        }
        payment.return_url = confirmation["return_url"]
            .as_str()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .ok_or_else(|| bad_request("return_url is required", "confirmation.return_url"))?
            .to_owned();
        payment.save_method = match req.get("save_payment_method") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| bad_request("Must be a boolean", "save_payment_method"))?,
        };
    }
    let response = payment.to_json();
    inner.payments.insert(id, payment);
    remember(&mut inner, PAYMENTS, key, req, &response);
    Ok(Json(response).into_response())
}

/// The `type` of `payment_method_data`, checked as YooKassa does: an object whose `type` is one
/// of its payment methods (only those a redirect confirmation serves are emulated).
fn payment_method_type(req: &Value) -> Result<Option<String>, Refusal> {
    const PARAMETER: &str = "payment_method_data.type";
    let Some(data) = req.get("payment_method_data") else {
        return Ok(None);
    };
    if !data.is_object() {
        return Err(bad_request(
            "payment_method_data must be an object",
            "payment_method_data",
        ));
    }
    match data["type"].as_str() {
        Some(t @ ("bank_card" | "sbp" | "sberbank" | "yoo_money" | "tinkoff_bank")) => {
            Ok(Some(t.to_owned()))
        }
        Some(_) => Err(bad_request("Invalid payment method type", PARAMETER)),
        None => Err(bad_request("Payment method type is required", PARAMETER)),
    }
}

/// `GET /v3/me`: the shop the basic auth names.
async fn me(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    if let Err(r) = admit(&state, &headers) {
        return r.into_response();
    }
    Json(shapes::shop_info(&state.shop_id)).into_response()
}

async fn get_payment(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&state, &headers) {
        return r.into_response();
    }
    match state.lock().payments.get(&id) {
        Some(p) => Json(p.to_json()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Payment doesn't exist or access denied",
            Some("payment_id"),
        )
        .into_response(),
    }
}

async fn create_refund(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match try_create_refund(&state, &headers, &body) {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

fn try_create_refund(
    state: &State,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, Refusal> {
    admit(state, headers)?;
    if state.lock().failing_refunds {
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "Internal server error",
            None,
        ));
    }
    let key = idempotence_key(headers)?;
    let req = parse_body(body)?;
    let mut inner = state.lock();
    if let Some(r) = replay(&inner, REFUNDS, &key, &req) {
        return r;
    }
    let (minor, _, _) = amount_of(&req["amount"], "amount")?;
    let payment_id = req["payment_id"]
        .as_str()
        .ok_or_else(|| bad_request("payment_id is required", "payment_id"))?;
    let refund = refund_payment(&mut inner, payment_id, minor)?;
    remember(&mut inner, REFUNDS, key, req, &refund);
    Ok(Json(refund).into_response())
}

/// Refunds `minor` of a succeeded payment, as the API and the dashboard both do: the refund
/// object, also kept for `GET /v3/refunds/{id}`.
pub(crate) fn refund_payment(
    inner: &mut Inner,
    payment_id: &str,
    minor: i64,
) -> Result<Value, Refusal> {
    let Some(payment) = inner.payments.get_mut(payment_id) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Payment doesn't exist",
            Some("payment_id"),
        ));
    };
    if payment.status != PaymentStatus::Succeeded {
        return Err(bad_request(
            "Only succeeded payments can be refunded",
            "payment_id",
        ));
    }
    let paid = shapes::parse_minor(&payment.amount_value).unwrap_or(0);
    if payment.refunded_minor + minor > paid {
        return Err(bad_request(
            "Refund amount exceeds the payment amount",
            "amount",
        ));
    }
    if minor <= 0 {
        return Err(bad_request("Invalid amount value", "amount"));
    }
    payment.refunded_minor += minor;
    let refund = shapes::refund(
        &uuid::Uuid::new_v4().to_string(),
        payment_id,
        &shapes::format_minor(minor),
        &payment.currency,
        OffsetDateTime::now_utc(),
    );
    inner.refunds.push(refund.clone());
    Ok(refund)
}

async fn get_refund(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&state, &headers) {
        return r.into_response();
    }
    let inner = state.lock();
    match inner.refunds.iter().find(|r| r["id"] == id.as_str()) {
        Some(r) => Json(r.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Refund doesn't exist or access denied",
            Some("refund_id"),
        )
        .into_response(),
    }
}

/// The shop's dashboard (a control for tests, not the API: no auth, no idempotence key): the
/// operator refunds `{"value": "50.00"}` of a payment by hand. Answers with the refund object.
async fn dashboard_refund(
    AxState(state): AxState<Arc<State>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let outcome = parse_body(&body).and_then(|req| {
        let minor = req["value"]
            .as_str()
            .and_then(shapes::parse_minor)
            .ok_or_else(|| bad_request("Invalid amount value", "value"))?;
        refund_payment(&mut state.lock(), &id, minor)
    });
    match outcome {
        Ok(refund) => Json(refund).into_response(),
        Err(r) => r.into_response(),
    }
}

/// The hosted payment page a person is redirected to: one button that pays with the test card.
async fn checkout_page(AxState(state): AxState<Arc<State>>, Path(id): Path<String>) -> Response {
    let inner = state.lock();
    let Some(p) = inner.payments.get(&id) else {
        return (StatusCode::NOT_FOUND, "unknown payment").into_response();
    };
    Html(format!(
        "<!doctype html><title>YooKassa emulator</title><h1>Pay {} {}</h1>\
         <form method=post><button type=submit>Pay with test card</button></form>",
        p.amount_value, p.currency
    ))
    .into_response()
}

async fn checkout_pay(AxState(state): AxState<Arc<State>>, Path(id): Path<String>) -> Response {
    let mut inner = state.lock();
    let Some(p) = inner.payments.get(&id) else {
        return (StatusCode::NOT_FOUND, "unknown payment").into_response();
    };
    let return_url = p.return_url.clone();
    if p.status == PaymentStatus::Pending {
        inner.mark_paid(&id);
    }
    Redirect::to(&return_url).into_response()
}
