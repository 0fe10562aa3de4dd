//! The operator's view of the remote nodes in the bot, against the Telegram emulator over
//! HTTP, on SQLite and PostgreSQL: `/nodes` for admins only, and one message per incident
//! when a node goes offline, however often the bot looks and across a restart.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::Duration;

use harness::{Harness, ADMIN};
use store::testing::TestDb;
use time::OffsetDateTime;

/// The admin's messages containing `needle`, as sent so far.
fn admin_messages_with(h: &Harness, needle: &str) -> usize {
    h.tg.calls()
        .iter()
        .filter(|c| {
            c.method == "sendMessage"
                && c.params.i64("chat_id") == Some(ADMIN)
                && c.params.str("text").is_some_and(|t| t.contains(needle))
        })
        .count()
}

async fn admins_see_each_node_and_nobody_else_does(db: &TestDb) {
    let h = Harness::start(db).await;
    let now = OffsetDateTime::now_utc();
    let online = db.remote_node("de-1", "🇩🇪 Frankfurt").await;
    let revision = u64::try_from(db.store.access_revision().await.unwrap()).unwrap();
    db.node_reports(&online, revision, 7, 768, now).await;
    let silent = db.remote_node("nl-1", "🇳🇱 Amsterdam").await;
    db.node_reports(&silent, 0, 0, 0, now - time::Duration::hours(1))
        .await;
    db.remote_node("fi-1", "🇫🇮 Helsinki").await;
    db.subscriber(3001, "month", 30, now).await; // the nodes have not applied this yet
    let lag = db.store.access_revision().await.unwrap() - i64::try_from(revision).unwrap();
    assert!(lag > 0);

    let admin = h.tg.user(ADMIN, "Admin", Some("en"));
    h.tg.send_text(&admin, "/nodes");
    // The start-up look at the nodes may still be under way and alert the admin first.
    h.tg.wait_for(|c| {
        c.method == "sendMessage"
            && c.params.i64("chat_id") == Some(ADMIN)
            && c.params
                .str("text")
                .is_some_and(|t| t.contains("Frankfurt"))
    })
    .await;
    let list = h.tg.chat(ADMIN);
    let text = list
        .iter()
        .map(|m| m.text())
        .find(|t| t.contains("Frankfurt"))
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[1],
        format!("de-1 · 🇩🇪 Frankfurt · 🟢 online · lag {lag} · 7 conns · 1.5 KiB")
    );
    assert!(
        lines[2].starts_with("nl-1 · 🇳🇱 Amsterdam · 🔴 offline · lag "),
        "{text}"
    );
    assert_eq!(lines[3], "fi-1 · 🇫🇮 Helsinki · 🔴 offline · never reported");

    // Anyone else gets the bot as a person does, never the list.
    let stranger = h.tg.user(3002, "Stranger", Some("en"));
    h.tg.send_text(&stranger, "/nodes");
    h.next("sendMessage", stranger.id).await;
    h.settle().await;
    assert!(h
        .tg
        .chat(stranger.id)
        .iter()
        .all(|m| !m.text().contains("de-1")));
}

async fn an_admin_hears_once_that_a_node_went_offline_and_once_that_it_is_back(db: &TestDb) {
    let node = db.remote_node("de-1", "🇩🇪 Frankfurt").await;
    let an_hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
    db.node_reports(&node, 0, 0, 0, an_hour_ago).await;
    let mut h = Harness::start_watching_nodes(db).await;
    let alert = h.next("sendMessage", ADMIN).await;
    let text = alert.params.str("text").unwrap();
    assert!(
        text.contains("de-1") && text.contains("is offline"),
        "{text}"
    );
    // The bot keeps looking five times a second, and restarts (as a new leader would).
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.restart().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        admin_messages_with(&h, "is offline"),
        1,
        "one message per incident"
    );

    db.node_reports(&node, 0, 0, 0, OffsetDateTime::now_utc())
        .await;
    h.tg.wait_for(|c| {
        c.params.i64("chat_id") == Some(ADMIN)
            && c.params
                .str("text")
                .is_some_and(|t| t.contains("back online"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(admin_messages_with(&h, "back online"), 1);
    assert_eq!(admin_messages_with(&h, "is offline"), 1);
}

store::backend_tests!(
    admins_see_each_node_and_nobody_else_does,
    an_admin_hears_once_that_a_node_went_offline_and_once_that_it_is_back,
);
