//! Erasure and export on both backends: after erasure no table (and, for SQLite, no file in the
//! data directory) holds anything of the person; payments stay, unlinked.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, Email, Language, Money, NewUser, PaymentStatus, PlanId, Provider, TelegramId};
use sqlx::{Column as _, Row as _};
use store::testing::TestDb;
use store::{Backend, NewPayment, EXPORT_SCHEMA_VERSION};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);
const TELEGRAM_ID: i64 = 7_770_123_456;
const FIRST: &str = "Zerelda";
const LAST: &str = "Quixotic-Marsh";
const USERNAME: &str = "zerelda_q_tg";
const EMAIL: &str = "zerelda.marsh@example.org";
const SUPPORT_TEXT: &str = "My router in Vyborg-Quayside drops the tunnel";

/// A person with every kind of data the store keeps: profile, consent, email, subscription,
/// trial, credentials, payments, support tickets and the bot's bookkeeping.
async fn everything_about_someone(db: &TestDb) -> domain::User {
    let new = NewUser {
        telegram_id: TelegramId(TELEGRAM_ID),
        first_name: FIRST.into(),
        last_name: Some(LAST.into()),
        username: Some(USERNAME.into()),
        language: Language::En,
        consent_at: Some(NOW),
    };
    let user = db.store.create_user(&new, NOW).await.unwrap();
    db.store
        .set_email(user.id, Some(&EMAIL.parse::<Email>().unwrap()))
        .await
        .unwrap();
    db.store
        .claim_trial("opaque-claim", user.id, Days(3), NOW)
        .await
        .unwrap();
    let payment = NewPayment {
        user_id: user.id,
        provider: Provider::YooKassa,
        provider_payment_id: Some("yk-erase".into()),
        plan: PlanId("month".into()),
        days: Days(30),
        amount: Money::rub_kopecks(19_900),
        created_at: NOW,
    };
    let pending = db.store.create_payment(&payment).await.unwrap();
    db.store
        .settle_payment(pending.id, PaymentStatus::Succeeded, None, NOW)
        .await
        .unwrap();
    let stars = NewPayment {
        provider: Provider::TelegramStars,
        provider_payment_id: Some("charge-erase".into()),
        amount: Money::stars(150),
        ..payment
    };
    db.store.record_paid(&stars).await.unwrap();
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
        .add_support_message(ticket, true, "We are looking into it", NOW)
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
    user
}

/// Every value in every table, as text, except sqlx's own migration bookkeeping (schema
/// checksums, no data about anyone).
async fn every_stored_value(db: &TestDb) -> Vec<(String, String)> {
    let pool = store::testing::pool(&db.store);
    let tables_sql = match db.store.backend() {
        Backend::Sqlite => "SELECT name AS t FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT table_name::text AS t FROM information_schema.tables \
             WHERE table_schema = 'public'"
        }
    };
    let tables: Vec<String> = sqlx::query(tables_sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("t"))
        .filter(|t: &String| t != "_sqlx_migrations")
        .collect();
    assert!(tables.len() >= 8, "found the tables: {tables:?}");
    let mut values = Vec::new();
    for table in tables {
        for row in sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            for column in row.columns() {
                let i = column.ordinal();
                let text = row
                    .try_get::<Option<String>, _>(i)
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(i)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .unwrap();
                if let Some(text) = text {
                    values.push((format!("{table}.{}", column.name()), text));
                }
            }
        }
    }
    values
}

async fn erasure_leaves_nothing_of_the_person_in_any_table(db: &TestDb) {
    let user = everything_about_someone(db).await;
    let credentials = db.store.credentials(user.id).await.unwrap().unwrap();
    let traces = [
        TELEGRAM_ID.to_string(),
        FIRST.into(),
        LAST.into(),
        USERNAME.into(),
        EMAIL.into(),
        SUPPORT_TEXT.into(),
        "awaiting:support".into(),
        credentials.sub_token.as_str().into(),
    ];
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
    let credentials = db.store.credentials(user.id).await.unwrap().unwrap();
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
    let shown = format!("{export:?}");
    assert!(!shown.contains(FIRST) && !shown.contains(EMAIL), "{shown}");
    let messages = format!("{:?}", db.store.support_messages(user.id).await.unwrap());
    assert!(!messages.contains(SUPPORT_TEXT), "{messages}");
}

async fn retention_finds_only_people_gone_quiet_since_the_cutoff(db: &TestDb) {
    let old = db
        .store
        .create_user(&NewUser::from_telegram_id(TelegramId(1)), NOW)
        .await
        .unwrap();
    let paying = db
        .store
        .create_user(&NewUser::from_telegram_id(TelegramId(2)), NOW)
        .await
        .unwrap();
    let returning = db
        .store
        .create_user(&NewUser::from_telegram_id(TelegramId(3)), NOW)
        .await
        .unwrap();
    let cutoff = NOW + time::Duration::days(100);
    db.store
        .grant_days(paying.id, PlanId("year".into()), Days(365), NOW)
        .await
        .unwrap();
    db.store
        .touch_last_seen(returning.id, cutoff + time::Duration::days(1))
        .await
        .unwrap();
    db.store
        .grant_days(old.id, PlanId("month".into()), Days(30), NOW)
        .await
        .unwrap();
    assert_eq!(db.store.inactive_users(cutoff).await.unwrap(), vec![old.id]);
}

store::backend_tests!(
    erasure_leaves_nothing_of_the_person_in_any_table,
    the_export_holds_everything_about_the_person_but_no_secrets,
    retention_finds_only_people_gone_quiet_since_the_cutoff,
);
