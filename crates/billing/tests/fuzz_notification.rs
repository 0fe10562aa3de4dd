//! Runs the `billing_notification` fuzz target's checks (`fuzz/checks/billing_notification.rs`)
//! on stable Rust: over the committed corpus (`fuzz/corpus/billing_notification/`), over the
//! notifications the YooKassa emulator sends for a real checkout, and over generated bodies.
//!
//! With `MILLY_FUZZ_SEEDS=1` the emulator's notifications are also written to the corpus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use billing::fuzzing::notification_body::{self, read_notification, NotificationBody};
use billing::wire::{Amount, CreatePayment, Metadata, RedirectConfirmation};
use billing::{YooKassa, YooKassaSettings};
use domain::Secret;
use proptest::prelude::*;

#[path = "../../../fuzz/checks/billing_notification.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_billing_notification_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("billing_notification") {
        println!("{name}");
        checks::run(&bytes);
    }
}

/// Creates a payment at the emulator the way a checkout does, returning YooKassa's id.
async fn create_payment(client: &YooKassa, key: &str) -> String {
    let request = CreatePayment {
        amount: Amount {
            value: "199.00".into(),
            currency: "RUB".into(),
        },
        capture: true,
        confirmation: RedirectConfirmation {
            kind: "redirect",
            return_url: "http://127.0.0.1:9/pay/return?t=x".into(),
        },
        description: "milly: month (30 days)".into(),
        metadata: Metadata {
            payment_id: "1".into(),
            gift: None,
        },
        receipt: None,
        payment_method_data: None,
        save_payment_method: None,
    };
    client.create_payment(&request, key).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulators_notifications_pass_the_checks_and_name_the_payment() {
    let yk = yookassa_emulator::Emulator::start("100500", "test_secret_key")
        .await
        .unwrap();
    let client = YooKassa::new(&YooKassaSettings {
        enabled: true,
        shop_id: Secret::new("100500"),
        secret_key: Secret::new("test_secret_key"),
        api_url: yk.url(),
        payment_methods: Vec::new(),
    })
    .unwrap();
    let paid = create_payment(&client, "checkout-1").await;
    yk.succeed(&paid).unwrap();
    let canceled = create_payment(&client, "checkout-2").await;
    yk.cancel(&canceled).unwrap();
    for (id, name) in [(paid, "succeeded"), (canceled, "canceled")] {
        let body = yk.notification(&id).unwrap().to_string();
        checks::run(body.as_bytes());
        assert_eq!(
            read_notification(body.as_bytes()),
            NotificationBody::Payment { id }
        );
        if std::env::var_os("MILLY_FUZZ_SEEDS").is_some_and(|v| v == "1") {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/corpus/billing_notification");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("real-emulator-{name}.json")), &body).unwrap();
        }
    }
}

fn body() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        prop::sample::select(notification_body::PAYMENT_EVENTS.to_vec()).prop_map(str::to_owned),
        prop::sample::select(vec!["notification", "refund.succeeded", "", "payment.x"])
            .prop_map(str::to_owned),
        "[a-z._\\\\\"]{0,12}",
    ];
    (text.clone(), text.clone(), text, any::<bool>(), any::<u8>()).prop_map(
        |(kind, event, id, nested, junk)| {
            let object = if nested {
                serde_json::json!({ "id": id, "status": "succeeded", "paid": true })
            } else {
                serde_json::json!(id)
            };
            let mut body =
                serde_json::json!({ "type": kind, "event": event, "object": object }).to_string();
            if junk % 5 == 0 {
                body.truncate(usize::from(junk) % (body.len() + 1));
            }
            body
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_notification_fuzz_checks_hold_on_stable(input in prop_oneof![
        body().prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..100),
    ]) {
        checks::run(&input);
    }
}
