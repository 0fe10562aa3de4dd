//! The operator's payment commands with the real binary, on SQLite and PostgreSQL: a card
//! payment made through the YooKassa emulator and a Stars payment appear in `milly payment
//! list`, and `milly payment refund` returns each through its provider.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::{Money, NewUser, Provider, Secret, TelegramId};
use store::testing::{stars_payment, TestDb};
use store::NewPayment;
use testkit::milly::cli::{ok, run};
use time::OffsetDateTime;

const SHOP_ID: &str = "100500";
const SECRET_KEY: &str = "test_secret_key";
const BOT_TOKEN: &str = "123456789:AAEtestTOKEN_for-the-refund-scenario0";

async fn refunds_go_back_through_each_provider(db: &TestDb) {
    let yk = yookassa_emulator::Emulator::start(SHOP_ID, SECRET_KEY)
        .await
        .unwrap();
    let tg = tg_emulator::Emulator::start(BOT_TOKEN).await.unwrap();
    let settings = app::AppSettings {
        yookassa: billing::YooKassaSettings {
            enabled: true,
            shop_id: Secret::new(SHOP_ID),
            secret_key: Secret::new(SECRET_KEY),
            api_url: yk.url(),
            payment_methods: Vec::new(),
        },
        ..app::AppSettings::default()
    };
    let app = app::App::new(db.store.clone(), settings);
    let now = OffsetDateTime::now_utc();

    // A card payment, paid and credited.
    let mut new = NewUser::from_telegram_id(TelegramId(5551));
    new.consent_at = Some(now);
    let user = db.store.create_user(&new, now).await.unwrap();
    let token = db.sub_token(user.id).await;
    let cards = app::CardPayments::new(app.clone()).unwrap();
    cards.start_checkout(&token, "month", now).await.unwrap();
    let yk_id = yk.payment_ids().pop().unwrap();
    yk.succeed(&yk_id).unwrap();
    let report = cards
        .reconcile_once(now + time::Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.credited, 1);
    let card = db
        .store
        .payment_by_provider_id(Provider::YooKassa, &yk_id)
        .await
        .unwrap()
        .unwrap();

    // A Stars payment.
    let stars = NewPayment {
        amount: Money::stars(100),
        ..stars_payment(user.id, "stxCHARGE", now)
    };
    db.store.record_paid(&stars).await.unwrap();
    let stars = db
        .store
        .payment_by_provider_id(Provider::TelegramStars, "stxCHARGE")
        .await
        .unwrap()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("MILLY_DATABASE__URL", db.url.clone()),
        ("MILLY_NODE__ENABLED", "false".to_owned()),
        ("MILLY_YOOKASSA__ENABLED", "true".to_owned()),
        ("MILLY_YOOKASSA__SHOP_ID", SHOP_ID.to_owned()),
        ("MILLY_YOOKASSA__SECRET_KEY", SECRET_KEY.to_owned()),
        ("MILLY_YOOKASSA__API_URL", yk.url()),
        ("MILLY_TELEGRAM__API_URL", tg.api_url()),
    ];
    let dir = dir.path();

    let list = ok(dir, &["payment", "list", "--user", "5551"], &env);
    assert!(
        list.contains("yookassa") && list.contains("199 ₽"),
        "{list}"
    );
    assert!(
        list.contains("telegram_stars") && list.contains("succeeded"),
        "{list}"
    );

    let card_id = card.id.to_string();
    let out = ok(dir, &["payment", "refund", &card_id], &env);
    assert!(out.contains("through YooKassa"), "{out}");
    assert_eq!(yk.refunds().len(), 1);
    assert_eq!(yk.refunds()[0]["payment_id"], yk_id);
    let again = run(dir, &["payment", "refund", &card_id], &env);
    assert_ne!(
        again.status, 0,
        "a refunded payment cannot be refunded again"
    );
    assert!(again.stderr.contains("refunded"), "{}", again.stderr);
    assert_eq!(yk.refunds().len(), 1);

    // Stars need the bot's token; without it the operator is told so.
    let stars_id = stars.id.to_string();
    let no_token = run(dir, &["payment", "refund", &stars_id], &env);
    assert_ne!(no_token.status, 0);
    assert!(
        no_token.stderr.contains("[telegram] token"),
        "{}",
        no_token.stderr
    );

    let mut with_token = env.clone();
    with_token.push(("MILLY_TELEGRAM__TOKEN", BOT_TOKEN.to_owned()));
    let out = ok(dir, &["payment", "refund", &stars_id], &with_token);
    assert!(out.contains("refundStarPayment"), "{out}");
    assert!(!out.contains(BOT_TOKEN));
    let call = tg
        .calls()
        .into_iter()
        .find(|c| c.method == "refundStarPayment")
        .unwrap();
    assert_eq!(call.params.i64("user_id"), Some(5551));
    assert_eq!(
        call.params.str("telegram_payment_charge_id").as_deref(),
        Some("stxCHARGE")
    );

    let list = ok(dir, &["payment", "list"], &env);
    assert_eq!(list.matches("refunded").count(), 2, "{list}");
}

store::backend_tests!(refunds_go_back_through_each_provider);
