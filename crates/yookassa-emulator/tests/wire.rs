//! The emulator as a client sees it over HTTP: auth, idempotence, errors, payment life and
//! refunds in YooKassa's wire format.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use yookassa_emulator::{Emulator, CARD_LAST4};

const SHOP: &str = "100500";
const KEY: &str = "test_secret";

fn create_body() -> Value {
    json!({
        "amount": {"value": "199.00", "currency": "RUB"},
        "capture": true,
        "confirmation": {"type": "redirect", "return_url": "http://127.0.0.1/pay/return?t=abc"},
        "description": "month",
        "metadata": {"payment_id": "1"},
    })
}

async fn post(yk: &Emulator, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", yk.url()))
        .basic_auth(SHOP, Some(KEY))
        .json(body);
    if let Some(key) = key {
        req = req.header("Idempotence-Key", key);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn get(yk: &Emulator, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", yk.url()))
        .basic_auth(SHOP, Some(KEY))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_same_idempotence_key_returns_the_same_payment() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (s1, p1) = post(&yk, "/v3/payments", Some("k1"), &create_body()).await;
    let (s2, p2) = post(&yk, "/v3/payments", Some("k1"), &create_body()).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(p1["id"], p2["id"]);
    assert_eq!(p1["status"], "pending");
    assert_eq!(p1["confirmation"]["type"], "redirect");
    assert_eq!(yk.payment_ids().len(), 1);

    let (s3, p3) = post(&yk, "/v3/payments", Some("k2"), &create_body()).await;
    assert_eq!(s3, 200);
    assert_ne!(p3["id"], p1["id"]);
}

#[tokio::test]
async fn requests_without_a_key_or_with_wrong_credentials_are_refused() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (s, e) = post(&yk, "/v3/payments", None, &create_body()).await;
    assert_eq!(s, 400);
    assert_eq!(e["type"], "error");
    assert_eq!(e["parameter"], "Idempotence-Key");

    let r = reqwest::Client::new()
        .post(format!("{}/v3/payments", yk.url()))
        .basic_auth(SHOP, Some("wrong"))
        .header("Idempotence-Key", "k")
        .json(&create_body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid_credentials");
}

#[tokio::test]
async fn a_receipt_must_add_up_to_the_amount() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let mut body = create_body();
    body["receipt"] = json!({
        "customer": {"email": "a@example.com"},
        "items": [{"description": "month", "quantity": "1.00",
                   "amount": {"value": "100.00", "currency": "RUB"}, "vat_code": 1}],
    });
    let (s, e) = post(&yk, "/v3/payments", Some("r1"), &body).await;
    assert_eq!(s, 400, "{e}");
    body["receipt"]["items"][0]["amount"]["value"] = json!("199.00");
    let (s, _) = post(&yk, "/v3/payments", Some("r2"), &body).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_paid_payment_shows_card_details_and_can_be_refunded_once() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (_, p) = post(&yk, "/v3/payments", Some("k"), &create_body()).await;
    let id = p["id"].as_str().unwrap();
    yk.succeed(id).unwrap();
    let (s, p) = get(&yk, &format!("/v3/payments/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(p["status"], "succeeded");
    assert_eq!(p["paid"], true);
    assert_eq!(p["payment_method"]["card"]["last4"], CARD_LAST4);

    let refund = json!({"payment_id": id, "amount": {"value": "199.00", "currency": "RUB"}});
    let (s, r) = post(&yk, "/v3/refunds", Some("rf"), &refund).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["status"], "succeeded");
    let (s, _) = post(&yk, "/v3/refunds", Some("rf2"), &refund).await;
    assert_eq!(s, 400, "more than was paid");
    assert_eq!(yk.refunds().len(), 1);
}

#[tokio::test]
async fn unknown_payments_are_not_found() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (s, e) = get(&yk, "/v3/payments/2c79a0e6-000f-5000-9000-1a5d0c0b2b1e").await;
    assert_eq!(s, 404);
    assert_eq!(e["code"], "not_found");
}

#[tokio::test]
async fn an_outage_answers_500_until_it_ends() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    yk.set_failing(true);
    let (s, _) = post(&yk, "/v3/payments", Some("k"), &create_body()).await;
    assert_eq!(s, 500);
    yk.set_failing(false);
    let (s, _) = post(&yk, "/v3/payments", Some("k"), &create_body()).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_hosted_page_pays_and_sends_the_person_back() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (_, p) = post(&yk, "/v3/payments", Some("k"), &create_body()).await;
    let url = p["confirmation"]["confirmation_url"].as_str().unwrap();
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("199.00"));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let paid = browser.post(url).send().await.unwrap();
    assert_eq!(paid.status().as_u16(), 303);
    assert_eq!(
        paid.headers()["location"],
        "http://127.0.0.1/pay/return?t=abc"
    );
    let id = p["id"].as_str().unwrap();
    assert_eq!(yk.payment(id).unwrap()["status"], "succeeded");
    assert_eq!(yk.notification(id).unwrap()["event"], "payment.succeeded");
}

#[tokio::test]
async fn a_dashboard_refund_is_readable_through_the_api_and_notified_in_yookassas_format() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (_, created) = post(&yk, "/v3/payments", Some("k-dash"), &create_body()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    yk.succeed(&id).unwrap();

    // Over HTTP, as the operator's click would.
    let r = reqwest::Client::new()
        .post(format!("{}/dashboard/payments/{id}/refunds", yk.url()))
        .json(&json!({"value": "50.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let refund: Value = r.json().await.unwrap();
    let refund_id = refund["id"].as_str().unwrap().to_owned();
    assert_eq!(refund["payment_id"], id.as_str());
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(
        refund["amount"],
        json!({"value": "50.00", "currency": "RUB"})
    );

    let (status, fetched) = get(&yk, &format!("/v3/refunds/{refund_id}")).await;
    assert_eq!((status, &fetched), (200, &refund));
    let (_, payment) = get(&yk, &format!("/v3/payments/{id}")).await;
    assert_eq!(payment["refunded_amount"]["value"], "50.00");
    assert_eq!(payment["refundable"], true);

    let note = yk.refund_notification(&refund_id).unwrap();
    assert_eq!(note["type"], "notification");
    assert_eq!(note["event"], "refund.succeeded");
    assert_eq!(note["object"], refund);

    // The rest, then nothing more.
    yk.refund_in_dashboard(&id, "149.00").unwrap();
    let (_, payment) = get(&yk, &format!("/v3/payments/{id}")).await;
    assert_eq!(payment["refunded_amount"]["value"], "199.00");
    assert_eq!(payment["refundable"], false);
    assert!(yk.refund_in_dashboard(&id, "0.01").is_err());
    assert_eq!(get(&yk, "/v3/refunds/nope").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_requests_under_one_key_create_one_payment() {
    let yk = std::sync::Arc::new(Emulator::start(SHOP, KEY).await.unwrap());
    let mut racing = Vec::new();
    for _ in 0..8 {
        let yk = yk.clone();
        racing.push(tokio::spawn(async move {
            post(&yk, "/v3/payments", Some("k-race"), &create_body())
                .await
                .1["id"]
                .clone()
        }));
    }
    let mut ids = Vec::new();
    for r in racing {
        ids.push(r.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(yk.payment_ids().len(), 1);
}

#[tokio::test]
async fn the_shop_answers_me_with_its_id_only_with_the_right_credentials() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let (status, shop) = get(&yk, "/v3/me").await;
    assert_eq!(status, 200);
    assert_eq!(shop["account_id"], SHOP);
    assert_eq!(shop["status"], "enabled");
    let wrong = reqwest::Client::new()
        .get(format!("{}/v3/me", yk.url()))
        .basic_auth(SHOP, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "invalid_credentials");
}

#[tokio::test]
async fn a_chosen_payment_method_is_checked_and_shown_like_yookassas() {
    let yk = Emulator::start(SHOP, KEY).await.unwrap();
    let mut body = create_body();
    body["payment_method_data"] = json!({"type": "sbp"});
    let (s, p) = post(&yk, "/v3/payments", Some("m1"), &body).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["payment_method"]["type"], "sbp");
    assert_eq!(p["payment_method"]["saved"], false);
    let id = p["id"].as_str().unwrap();
    yk.succeed(id).unwrap();
    let (_, paid) = get(&yk, &format!("/v3/payments/{id}")).await;
    assert_eq!(paid["payment_method"]["type"], "sbp");
    assert!(paid["payment_method"].get("card").is_none(), "{paid}");

    for (key, bad) in [
        ("m2", json!({"type": "bitcoin"})),
        ("m3", json!({})),
        ("m4", json!("sbp")),
    ] {
        body["payment_method_data"] = bad;
        let (s, e) = post(&yk, "/v3/payments", Some(key), &body).await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(e["code"], "invalid_request");
        assert!(e["parameter"]
            .as_str()
            .unwrap()
            .starts_with("payment_method_data"));
    }
}
