//! What the emulator remembers: payments, refunds, idempotence keys and the requests the shop
//! made, behind one lock (tests are small; simplicity wins).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::shapes::EmulatedPayment;

/// A request the shop made that the emulator accepted, for tests to inspect.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `"POST /v3/payments"` or `"POST /v3/refunds"`.
    pub endpoint: &'static str,
    pub idempotence_key: String,
    pub body: Value,
}

#[derive(Default)]
pub struct Inner {
    pub payments: HashMap<String, EmulatedPayment>,
    /// (endpoint, key) → (request body, response status, response body).
    pub idempotence: HashMap<(&'static str, String), (Value, u16, Value)>,
    pub recorded: Vec<Recorded>,
    pub refunds: Vec<Value>,
    /// While set, every API call answers 500 as during an outage.
    pub failing: bool,
    /// While set, only `POST /v3/refunds` answers 500.
    pub failing_refunds: bool,
    /// While set, `POST /v3/payments` does its work (or replays it) and then answers 500, as
    /// when the answer is lost on the way back.
    pub losing_payment_answers: bool,
    /// How many API calls were answered (including replays and errors).
    pub api_calls: u64,
    /// Payment methods saved for autopayments, by id.
    pub methods: HashMap<String, SavedMethod>,
}

/// A payment method saved for autopayments, and what a test made of it.
#[derive(Debug, Clone, Default)]
pub struct SavedMethod {
    /// Charges are declined by the issuer (`insufficient_funds`).
    pub declining: bool,
    /// The person revoked the shop's permission: charges are canceled `permission_revoked`.
    pub revoked: bool,
    /// The issuer takes its time: charges stay pending until the test decides them.
    pub holding: bool,
}

impl Inner {
    /// The payment is paid: it succeeds, and a method the shop asked to save is saved.
    pub fn mark_paid(&mut self, id: &str) {
        let Some(p) = self.payments.get_mut(id) else {
            return;
        };
        p.status = crate::shapes::PaymentStatus::Succeeded;
        p.captured_at = Some(time::OffsetDateTime::now_utc());
        if p.save_method {
            let method = p.method_id.clone();
            self.methods.entry(method).or_default();
        }
    }
}

pub struct State {
    pub shop_id: String,
    pub secret_key: String,
    pub base_url: String,
    inner: Mutex<Inner>,
}

impl State {
    pub fn new(shop_id: String, secret_key: String, base_url: String) -> Self {
        Self {
            shop_id,
            secret_key,
            base_url,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in a handler while holding the lock must not hide the test's real failure.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
