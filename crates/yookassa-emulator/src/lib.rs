//! A YooKassa API v3 emulator for tests: an HTTP server on loopback that speaks the real JSON
//! wire format (`POST /v3/payments` with basic auth and `Idempotence-Key`, `GET
//! /v3/payments/{id}`, `POST /v3/refunds`, `GET /v3/refunds/{id}`, `{"type":"error"}` answers),
//! plus controls a test uses in place of a person, the shop's dashboard and YooKassa's
//! notification sender: pay, cancel, refund by hand (also `POST
//! /dashboard/payments/{id}/refunds`), deliver `payment.*` and `refund.succeeded`
//! notifications to a webhook URL, simulate an outage. Autopayments work as YooKassa's do: a
//! payment created with `save_payment_method: true` and paid saves its method
//! (`payment_method.saved`, `.id`), and `POST /v3/payments` with that `payment_method_id` and
//! no confirmation charges it at once (succeeded, or canceled with `cancellation_details` when
//! a test made the issuer decline or the person revoke the permission). Like the real API it returns the card's
//! first and last digits and issuer, so tests can prove the shop never stores them.
//!
//! ```ignore
//! let yk = Emulator::start("100500", "test_secret").await?;
//! // ... the shop creates a payment against yk.url() ...
//! yk.succeed(&id);
//! let status = yk.notify(&id, &webhook_url).await?;
//! ```

mod server;
mod shapes;
mod state;

pub use shapes::{
    format_minor, parse_minor, PaymentStatus, CARD_FIRST6, CARD_ISSUER_COUNTRY, CARD_ISSUER_NAME,
    CARD_LAST4,
};
pub use state::Recorded;

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::state::State;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on loopback: {0}")]
    Bind(std::io::Error),
    #[error("no payment with that id")]
    UnknownPayment,
    #[error("no refund with that id")]
    UnknownRefund,
    #[error("no saved payment method with that id")]
    UnknownMethod,
    #[error("YooKassa would refuse that refund (not succeeded, or more than was paid)")]
    Refused,
    #[error("cannot deliver the notification: {0}")]
    Deliver(#[from] reqwest::Error),
}

/// A running emulator; the server stops when this is dropped.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
    http: reqwest::Client,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Emulator {
    /// Starts on 127.0.0.1 on a free port, accepting `shop_id:secret_key` as basic auth.
    pub async fn start(shop_id: &str, secret_key: &str) -> Result<Emulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(EmulatorError::Bind)?;
        let addr = listener.local_addr().map_err(EmulatorError::Bind)?;
        let state = Arc::new(State::new(
            shop_id.to_owned(),
            secret_key.to_owned(),
            format!("http://{addr}"),
        ));
        let app = server::router(state.clone());
        let server = tokio::spawn(async move {
            // Ends only when aborted on drop; an accept error ends the emulator, failing the test.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Emulator {
            addr,
            state,
            server,
            http: reqwest::Client::new(),
        })
    }

    /// The base URL to configure as `[yookassa] api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every payment id, in no particular order.
    pub fn payment_ids(&self) -> Vec<String> {
        self.state.lock().payments.keys().cloned().collect()
    }

    /// The payment object as `GET /v3/payments/{id}` would answer.
    pub fn payment(&self, id: &str) -> Option<Value> {
        self.state.lock().payments.get(id).map(|p| p.to_json())
    }

    /// The person paid with the test card (capture: the payment succeeds at once).
    pub fn succeed(&self, id: &str) -> Result<(), EmulatorError> {
        self.set_status(id, PaymentStatus::Succeeded)
    }

    /// The payment was declined or abandoned.
    pub fn cancel(&self, id: &str) -> Result<(), EmulatorError> {
        self.set_status(id, PaymentStatus::Canceled)
    }

    fn set_status(&self, id: &str, status: PaymentStatus) -> Result<(), EmulatorError> {
        let mut inner = self.state.lock();
        if status == PaymentStatus::Succeeded {
            if !inner.payments.contains_key(id) {
                return Err(EmulatorError::UnknownPayment);
            }
            inner.mark_paid(id);
            return Ok(());
        }
        let p = inner
            .payments
            .get_mut(id)
            .ok_or(EmulatorError::UnknownPayment)?;
        p.status = status;
        Ok(())
    }

    /// The ids of the payment methods saved for autopayments (a payment made with
    /// `save_payment_method: true` and paid).
    pub fn saved_methods(&self) -> Vec<String> {
        self.state.lock().methods.keys().cloned().collect()
    }

    /// Makes the issuer decline (`true`) or accept again (`false`) charges of saved method
    /// `method_id`: the autopayment is canceled with `insufficient_funds`.
    pub fn set_declining(&self, method_id: &str, declining: bool) -> Result<(), EmulatorError> {
        let mut inner = self.state.lock();
        let m = inner
            .methods
            .get_mut(method_id)
            .ok_or(EmulatorError::UnknownMethod)?;
        m.declining = declining;
        Ok(())
    }

    /// The person revokes the shop's permission to charge `method_id` (in their bank or
    /// YooMoney): autopayments are canceled with `permission_revoked` from now on.
    pub fn revoke(&self, method_id: &str) -> Result<(), EmulatorError> {
        let mut inner = self.state.lock();
        let m = inner
            .methods
            .get_mut(method_id)
            .ok_or(EmulatorError::UnknownMethod)?;
        m.revoked = true;
        Ok(())
    }

    /// The autopayments (charges of a saved method) the emulator accepted, oldest first.
    pub fn autopayments(&self) -> Vec<Recorded> {
        self.recorded()
            .into_iter()
            .filter(|r| {
                r.endpoint == "POST /v3/payments" && r.body.get("payment_method_id").is_some()
            })
            .collect()
    }

    /// The notification YooKassa would send now about this payment (`payment.<status>`).
    pub fn notification(&self, id: &str) -> Result<Value, EmulatorError> {
        let inner = self.state.lock();
        let p = inner
            .payments
            .get(id)
            .ok_or(EmulatorError::UnknownPayment)?;
        Ok(shapes::notification(p))
    }

    /// Delivers the payment's current notification to `webhook_url` as YooKassa does (a JSON
    /// POST) and returns the HTTP status the shop answered with.
    pub async fn notify(&self, id: &str, webhook_url: &str) -> Result<u16, EmulatorError> {
        let body = self.notification(id)?;
        self.deliver(webhook_url, &body).await
    }

    /// Posts any notification body (a forged one, say) to `webhook_url`.
    pub async fn deliver(&self, webhook_url: &str, body: &Value) -> Result<u16, EmulatorError> {
        let response = self.http.post(webhook_url).json(body).send().await?;
        Ok(response.status().as_u16())
    }

    /// Makes every API call answer 500 (`true`) or work again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.state.lock().failing = failing;
    }

    /// Makes `POST /v3/payments` do its work and then answer 500 (`true`), as when the answer
    /// is lost on the way back; or answer normally again (`false`).
    pub fn set_losing_payment_answers(&self, losing: bool) {
        self.state.lock().losing_payment_answers = losing;
    }

    /// Makes the issuer leave charges of saved method `method_id` pending (`true`) until the
    /// test succeeds or cancels them, or decide at once again (`false`).
    pub fn set_holding(&self, method_id: &str, holding: bool) -> Result<(), EmulatorError> {
        let mut inner = self.state.lock();
        let m = inner
            .methods
            .get_mut(method_id)
            .ok_or(EmulatorError::UnknownMethod)?;
        m.holding = holding;
        Ok(())
    }

    /// Makes only `POST /v3/refunds` answer 500 (`true`), or work again (`false`).
    pub fn set_failing_refunds(&self, failing: bool) {
        self.state.lock().failing_refunds = failing;
    }

    /// The create-payment and refund requests the emulator accepted, oldest first.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.state.lock().recorded.clone()
    }

    /// The refunds made (through the API or the dashboard), oldest first.
    pub fn refunds(&self) -> Vec<Value> {
        self.state.lock().refunds.clone()
    }

    /// The operator refunds `value` (`"50.00"`) of a succeeded payment in YooKassa's dashboard,
    /// as `POST /dashboard/payments/{id}/refunds` does over HTTP. Returns the refund's id.
    pub fn refund_in_dashboard(
        &self,
        payment_id: &str,
        value: &str,
    ) -> Result<String, EmulatorError> {
        let minor = shapes::parse_minor(value).ok_or(EmulatorError::Refused)?;
        let refund = server::refund_payment(&mut self.state.lock(), payment_id, minor)
            .map_err(|_| EmulatorError::Refused)?;
        Ok(refund["id"].as_str().unwrap_or_default().to_owned())
    }

    /// The `refund.succeeded` notification YooKassa sends about refund `refund_id`.
    pub fn refund_notification(&self, refund_id: &str) -> Result<Value, EmulatorError> {
        let inner = self.state.lock();
        let refund = inner
            .refunds
            .iter()
            .find(|r| r["id"] == refund_id)
            .ok_or(EmulatorError::UnknownRefund)?;
        Ok(shapes::refund_notification(refund))
    }

    /// Delivers `refund.succeeded` about refund `refund_id` to `webhook_url`; the shop's HTTP
    /// status.
    pub async fn notify_refund(
        &self,
        refund_id: &str,
        webhook_url: &str,
    ) -> Result<u16, EmulatorError> {
        let body = self.refund_notification(refund_id)?;
        self.deliver(webhook_url, &body).await
    }

    /// How many API calls were answered, errors included.
    pub fn api_calls(&self) -> u64 {
        self.state.lock().api_calls
    }
}
