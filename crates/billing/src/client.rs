//! A YooKassa API v3 client: HTTPS (rustls) with basic auth `shop_id:secret_key`, an
//! `Idempotence-Key` on every POST, explicit timeouts. The secret key is only ever put into the
//! Authorization header; errors carry YooKassa's error code, never bodies or credentials.

use std::time::Duration;

use domain::Secret;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::wire::{
    ApiErrorBody, CreateAutopayment, CreatePayment, CreateRefund, PaymentObject, RefundObject,
    ShopInfo,
};
use crate::{BillingError, SourcePolicy};

/// How long one API call may take, connection included.
pub const API_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct YooKassa {
    http: reqwest::Client,
    base: String,
    shop_id: Secret,
    secret_key: Secret,
    /// Who may send notifications (see [`YooKassa::with_source`]).
    source: SourcePolicy,
}

impl std::fmt::Debug for YooKassa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YooKassa")
            .field("base", &self.base)
            .finish()
    }
}

/// The shop YooKassa's API is called for (`[yookassa]` in `milly.toml`, built by `milly`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YooKassaSettings {
    /// Card payments are on.
    pub enabled: bool,
    pub shop_id: Secret,
    pub secret_key: Secret,
    /// `https://api.yookassa.ru`, or an emulator in tests.
    pub api_url: String,
    /// The ways to pay YooKassa's page offers, in the operator's order; empty means whatever
    /// the shop has.
    pub payment_methods: Vec<domain::PaymentMethod>,
}

impl YooKassa {
    /// A client for the shop; refused when payments are off or credentials are missing.
    pub fn new(c: &YooKassaSettings) -> Result<YooKassa, BillingError> {
        if !c.enabled || !c.shop_id.is_set() || !c.secret_key.is_set() {
            return Err(BillingError::NotConfigured);
        }
        let http = reqwest::Client::builder()
            .timeout(API_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BillingError::Unreachable(e.to_string()))?;
        Ok(YooKassa {
            http,
            base: c.api_url.trim_end_matches('/').to_owned(),
            shop_id: c.shop_id.clone(),
            secret_key: c.secret_key.clone(),
            source: SourcePolicy::default(),
        })
    }

    /// Takes notifications only from senders `source` admits (by default: YooKassa's networks,
    /// as the connection's address shows them).
    pub fn with_source(self, source: SourcePolicy) -> Self {
        YooKassa { source, ..self }
    }

    pub fn source(&self) -> &SourcePolicy {
        &self.source
    }

    /// `POST /v3/payments`. `idempotence_key` is one per local payment, reused when the same
    /// payment is asked for again.
    pub async fn create_payment(
        &self,
        request: &CreatePayment,
        idempotence_key: &str,
    ) -> Result<PaymentObject, BillingError> {
        self.post("/v3/payments", request, idempotence_key).await
    }

    /// `POST /v3/payments` with a saved `payment_method_id`: charges it without asking the
    /// person. `idempotence_key` is one per renewal attempt.
    pub async fn create_autopayment(
        &self,
        request: &CreateAutopayment,
        idempotence_key: &str,
    ) -> Result<PaymentObject, BillingError> {
        self.post("/v3/payments", request, idempotence_key).await
    }

    /// `GET /v3/me`: the shop these credentials open (a refusal means they are wrong).
    pub async fn me(&self) -> Result<ShopInfo, BillingError> {
        let response = self
            .http
            .get(format!("{}/v3/me", self.base))
            .basic_auth(self.shop_id.expose(), Some(self.secret_key.expose()))
            .send()
            .await
            .map_err(transport)?;
        read(response).await
    }

    /// `GET /v3/payments/{id}`; `None` when YooKassa knows no such payment.
    pub async fn payment_object(&self, id: &str) -> Result<Option<PaymentObject>, BillingError> {
        self.get_object("payments", id).await
    }

    /// `GET /v3/refunds/{id}`; `None` when YooKassa knows no such refund.
    pub async fn refund_object(&self, id: &str) -> Result<Option<RefundObject>, BillingError> {
        self.get_object("refunds", id).await
    }

    async fn get_object<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, BillingError> {
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            // Not a YooKassa id, so not worth a request (and never spliced into a URL).
            return Ok(None);
        }
        let response = self
            .http
            .get(format!("{}/v3/{kind}/{id}", self.base))
            .basic_auth(self.shop_id.expose(), Some(self.secret_key.expose()))
            .send()
            .await
            .map_err(transport)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        read(response).await.map(Some)
    }

    /// `POST /v3/refunds`.
    pub async fn create_refund(
        &self,
        request: &CreateRefund,
        idempotence_key: &str,
    ) -> Result<RefundObject, BillingError> {
        self.post("/v3/refunds", request, idempotence_key).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotence_key: &str,
    ) -> Result<T, BillingError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(self.shop_id.expose(), Some(self.secret_key.expose()))
            .header("Idempotence-Key", idempotence_key)
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        read(response).await
    }
}

fn transport(err: reqwest::Error) -> BillingError {
    // reqwest's message can include the URL, which holds no secret (auth is a header).
    BillingError::Unreachable(err.without_url().to_string())
}

async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, BillingError> {
    let status = response.status();
    if status.is_success() {
        return response
            .json::<T>()
            .await
            .map_err(|_| BillingError::Unexpected("a response that is not the expected JSON"));
    }
    let body: ApiErrorBody = response.json().await.unwrap_or_default();
    Err(BillingError::Refused {
        status: status.as_u16(),
        code: if body.code.is_empty() {
            "no error code".into()
        } else {
            body.code
        },
        parameter: body.parameter,
    })
}
