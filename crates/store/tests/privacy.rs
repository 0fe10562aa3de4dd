//! Erasure and export on both backends: after erasure no table (and, for SQLite, no file in the
//! data directory) holds anything of the person; payments stay, unlinked.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, Email, PaymentStatus, Percent, PlanId, PromoBenefit, TelegramId};
use sqlx::Row as _;
use store::testing::someone::{
    self, EMAIL, FIRST, LAST, SUPPORT_REPLY, SUPPORT_TEXT, TELEGRAM_ID, USERNAME,
};
use store::testing::{card_payment, every_stored_value, stars_payment, TestDb};
use store::EXPORT_SCHEMA_VERSION;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

/// A person with every kind of data the store keeps: profile, consent, email, subscription,
/// trial, credentials, payments, support tickets and the bot's bookkeeping.
async fn everything_about_someone(db: &TestDb) -> domain::User {
    let user = db
        .store
        .create_user(&someone::new_user(NOW), NOW)
        .await
        .unwrap();
    db.store
        .set_email(user.id, Some(&EMAIL.parse::<Email>().unwrap()))
        .await
        .unwrap();
    db.store
        .claim_trial("opaque-claim", user.id, Days(3), NOW)
        .await
        .unwrap();
    db.paid(&card_payment(user.id, Some("yk-erase"), NOW)).await;
    let discount = db
        .promo(
            "SPRING20",
            PromoBenefit::Percent(Percent::new(20).unwrap()),
            NOW,
        )
        .await;
    let stars = stars_payment(user.id, "charge-erase", NOW);
    db.store
        .record_paid_with_promo(&stars, Some(discount.id))
        .await
        .unwrap();
    let free = db.promo("WELCOME7", PromoBenefit::Days(Days(7)), NOW).await;
    db.store
        .redeem_days(free.id, user.id, PlanId("month".into()), Days(7), NOW)
        .await
        .unwrap();
    db.store.touch_last_seen(user.id, NOW).await.unwrap();
    let (ticket, message) = db
        .store
        .open_ticket(user.id, SUPPORT_TEXT, NOW)
        .await
        .unwrap();
    db.store
        .set_support_relay(message, -100_555, 77)
        .await
        .unwrap();
    db.store
        .add_support_message(ticket, true, SUPPORT_REPLY, NOW)
        .await
        .unwrap();
    db.store
        .set_conversation(user.id, Some("awaiting:support"), NOW)
        .await
        .unwrap();
    let ends_at = db
        .store
        .subscription(user.id)
        .await
        .unwrap()
        .unwrap()
        .ends_at;
    assert!(db
        .store
        .claim_reminder(user.id, "3d", ends_at, NOW)
        .await
        .unwrap());
    db.store.set_bot_unreachable(user.id, true).await.unwrap();
    db.store.claim_update(123_456, NOW).await.unwrap();
    let link = domain::AccountLinkToken::generate();
    db.store
        .issue_account_link(
            user.id,
            &link.hash(),
            NOW,
            NOW + time::Duration::minutes(15),
        )
        .await
        .unwrap();
    let session = domain::WebSessionToken::generate();
    assert!(db
        .store
        .create_web_session(
            &session.hash(),
            user.id,
            "login-signature-digest",
            NOW,
            NOW + time::Duration::days(30),
        )
        .await
        .unwrap());
    user
}

async fn erasure_leaves_nothing_of_the_person_in_any_table(db: &TestDb) {
    let user = everything_about_someone(db).await;
    let credentials = db.credentials(user.id).await;
    let mut traces = someone::traces();
    traces.push("awaiting:support".into());
    traces.push(credentials.sub_token.as_str().into());
    let before = every_stored_value(db).await;
    for trace in &traces {
        assert!(
            before.iter().any(|(_, v)| v.contains(trace.as_str())),
            "{trace} was stored"
        );
    }

    db.store.erase_user(user.id).await.unwrap();

    for (place, value) in every_stored_value(db).await {
        for trace in &traces {
            assert!(
                !value.contains(trace.as_str()),
                "{place} still holds a trace of the person"
            );
        }
        if place.ends_with("user_id") {
            assert_ne!(
                value,
                user.id.to_string(),
                "{place} still links to the person"
            );
        }
    }
    assert_eq!(db.store.user(user.id).await.unwrap(), None);
    assert_eq!(
        db.store
            .user_by_telegram(TelegramId(TELEGRAM_ID))
            .await
            .unwrap(),
        None
    );
    assert_eq!(db.store.credentials(user.id).await.unwrap(), None);
    assert_eq!(db.store.subscription(user.id).await.unwrap(), None);
    assert!(db.store.export_user(user.id).await.unwrap().is_none());
    assert_eq!(
        db.store
            .user_by_sub_token(&credentials.sub_token)
            .await
            .unwrap(),
        None
    );

    let payments = db.store.list_payments(None).await.unwrap();
    assert_eq!(
        payments.len(),
        2,
        "payment records the law requires are kept"
    );
    assert!(payments.iter().all(|p| p.user_id.is_none()), "and unlinked");
    assert!(payments
        .iter()
        .all(|p| p.status == PaymentStatus::Succeeded));
    // Which codes they used is gone; how often each code was used stays, as a count.
    let promos = db.store.list_promos().await.unwrap();
    assert!(promos.iter().all(|p| p.uses == 1), "{promos:?}");
}

/// SQLite only: PostgreSQL's files are the server's, out of the store's reach.
#[tokio::test]
async fn erasure_leaves_no_text_of_the_person_in_the_sqlite_files() {
    let db = &TestDb::sqlite().await;
    let dir = db.sqlite_dir().unwrap();
    let user = everything_about_someone(db).await;
    db.store.erase_user(user.id).await.unwrap();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += 1;
        for trace in [FIRST, LAST, USERNAME, EMAIL, SUPPORT_TEXT] {
            let found = bytes.windows(trace.len()).any(|w| w == trace.as_bytes());
            assert!(!found, "{} still holds {trace}", path.display());
        }
    }
    assert!(scanned >= 1);
}

async fn the_export_holds_everything_about_the_person_but_no_secrets(db: &TestDb) {
    let user = everything_about_someone(db).await;
    let credentials = db.credentials(user.id).await;
    let export = db.store.export_user(user.id).await.unwrap().unwrap();
    let json: serde_json::Value = serde_json::to_value(&export).unwrap();
    assert_eq!(json["schema_version"], EXPORT_SCHEMA_VERSION);
    assert_eq!(json["profile"]["telegram_id"], TELEGRAM_ID);
    assert_eq!(json["profile"]["first_name"], FIRST);
    assert_eq!(json["profile"]["last_name"], LAST);
    assert_eq!(json["profile"]["username"], USERNAME);
    assert_eq!(json["profile"]["email"], EMAIL);
    assert_eq!(json["profile"]["language"], "en");
    assert_eq!(json["consent"]["given_at"], "2026-04-01T12:00:00Z");
    assert_eq!(
        json["subscription"]["plan"], "month",
        "the paid plan came last"
    );
    assert_eq!(json["payments"].as_array().unwrap().len(), 2);
    assert_eq!(json["payments"][0]["provider"], "yoo_kassa");
    assert_eq!(json["payments"][1]["amount"]["currency"], "XTR");
    assert_eq!(json["payments"][1]["promo_code_id"], 1);
    assert_eq!(json["promo_codes"][0]["code"], "SPRING20");
    assert_eq!(json["promo_codes"][0]["payment_id"], 2);
    assert_eq!(json["promo_codes"][1]["code"], "WELCOME7");
    assert_eq!(
        json["promo_codes"][1]["redeemed_at"],
        "2026-04-01T12:00:00Z"
    );
    assert_eq!(json["support_messages"][0]["body"], SUPPORT_TEXT);
    assert_eq!(json["support_messages"][1]["from_operator"], true);
    let text = json.to_string();
    assert!(!text.contains(credentials.sub_token.as_str()));
    assert!(!text.contains(&credentials.vless_uuid.to_string()));
    assert!(json["credentials"]["subscription_token"]
        .as_str()
        .unwrap()
        .starts_with("withheld"));
    // The account link is listed with its times; neither it nor its hash is in the export.
    assert_eq!(
        json["account_links"][0]["issued_at"],
        "2026-04-01T12:00:00Z"
    );
    assert_eq!(
        json["account_links"][0]["expires_at"],
        "2026-04-01T12:15:00Z"
    );
    assert!(json["account_links"][0]["link"]
        .as_str()
        .unwrap()
        .starts_with("withheld"));
    let hash: String = sqlx::query("SELECT token_hash FROM account_links")
        .fetch_one(store::testing::pool(&db.store))
        .await
        .unwrap()
        .get("token_hash");
    assert!(!text.contains(&hash));
    // So is a website session: its times, never its cookie, hash or login digest.
    assert_eq!(
        json["web_sessions"][0]["signed_in_at"],
        "2026-04-01T12:00:00Z"
    );
    assert_eq!(json["web_sessions"][0]["ends_at"], "2026-05-01T12:00:00Z");
    assert!(json["web_sessions"][0]["cookie"]
        .as_str()
        .unwrap()
        .starts_with("withheld"));
    let session_hash: String = sqlx::query("SELECT token_hash FROM web_sessions")
        .fetch_one(store::testing::pool(&db.store))
        .await
        .unwrap()
        .get("token_hash");
    assert!(!text.contains(&session_hash));
    assert!(!text.contains("login-signature-digest"));
    let shown = format!("{export:?}");
    assert!(!shown.contains(FIRST) && !shown.contains(EMAIL), "{shown}");
    let messages = format!("{:?}", db.store.support_messages(user.id).await.unwrap());
    assert!(!messages.contains(SUPPORT_TEXT), "{messages}");
}

async fn retention_finds_only_people_gone_quiet_since_the_cutoff(db: &TestDb) {
    let old = db.user(1, NOW).await;
    let paying = db.user(2, NOW).await;
    let returning = db.user(3, NOW).await;
    let cutoff = NOW + time::Duration::days(100);
    db.grant(paying.id, "year", 365, NOW).await;
    db.store
        .touch_last_seen(returning.id, cutoff + time::Duration::days(1))
        .await
        .unwrap();
    db.grant(old.id, "month", 30, NOW).await;
    assert_eq!(db.store.inactive_users(cutoff).await.unwrap(), vec![old.id]);
}

store::backend_tests!(
    erasure_leaves_nothing_of_the_person_in_any_table,
    the_export_holds_everything_about_the_person_but_no_secrets,
    retention_finds_only_people_gone_quiet_since_the_cutoff,
);
