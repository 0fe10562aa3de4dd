//! A person's whole journey through the bot, against the Telegram emulator over HTTP, on SQLite
//! and PostgreSQL: /start → consent → trial → my subscription → buy with Stars (and the same
//! payment replayed) → support round trip → email → export → delete, after which nothing about
//! them remains in any table.
#![allow(clippy::unwrap_used)]

mod harness;

use domain::TelegramId;
use harness::{count, entities, Harness, ADMIN, PUBLIC_URL, SUPPORT_CHAT};
use serde_json::Value;
use store::testing::{every_stored_value, TestDb};

const ALICE: i64 = 1_000_123_457;
const EMAIL: &str = "alice.journey@example.com";
const QUESTION: &str = "My connection drops every evening";
const ANSWER: &str = "Please try the other node";

/// What a client app gets from the subscription link, through the real website on loopback
/// (`None` for a link the website does not know); base64 bodies are decoded.
async fn fetch_subscription(h: &Harness, link: &str) -> Option<String> {
    let site = harness::site(&h.app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, web::router(site)).await });
    let path = link.strip_prefix(PUBLIC_URL).unwrap();
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("user-agent", "v2rayNG/1.8.0")
        .send()
        .await
        .unwrap();
    server.abort();
    if response.status().as_u16() == 404 {
        return None;
    }
    assert_eq!(response.status().as_u16(), 200);
    let body = response.text().await.unwrap();
    use base64::Engine as _;
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or(body),
    )
}

async fn the_whole_journey(db: &TestDb) {
    let h = Harness::start(db).await;
    db.tls_node("eu-1", "EU", "node.vpn.test").await;
    let tg = &h.tg;
    let mut alice = tg.user(ALICE, "Alicia", Some("en"));
    alice.last_name = Some("Journeywoman".into());
    alice.username = Some("alicia_j".into());
    tg.register(&alice);

    // /start: a greeting in English, what is kept, the policy link; nothing stored yet.
    tg.send_text(&alice, "/start");
    h.next("sendMessage", ALICE).await;
    let consent = h.screen(ALICE);
    assert!(
        consent.text().contains("privacy policy"),
        "{}",
        consent.text()
    );
    assert_eq!(
        consent.json["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "text_link")
            .unwrap()["url"],
        format!("{PUBLIC_URL}/privacy")
    );
    assert_eq!(consent.buttons(), ["agree:en", "decline:en", "clang:ru"]);
    h.settle().await;
    assert_eq!(
        count(db, "users").await,
        0,
        "nothing is stored before consent"
    );

    // The Russian version, then "I agree" in Russian: the account appears with consent time.
    h.press(&alice, "clang:ru").await;
    assert!(h
        .screen(ALICE)
        .text()
        .contains("политике конфиденциальности"));
    h.press(&alice, "agree:ru").await;
    h.next("editMessageText", ALICE).await;
    let user = db
        .store
        .user_by_telegram(TelegramId(ALICE))
        .await
        .unwrap()
        .unwrap();
    assert!(user.consent_at.is_some());
    assert_eq!(user.language, domain::Language::Ru);
    let menu = h.screen(ALICE);
    assert!(menu.text().contains("Главное меню"), "{}", menu.text());
    for button in ["buy", "sub", "trial", "support", "privacy", "lang"] {
        assert!(
            menu.buttons().contains(&button.to_owned()),
            "{button} missing"
        );
    }

    // Switch to English.
    h.press(&alice, "lang").await;
    h.press(&alice, "lang:en").await;
    h.next("editMessageText", ALICE).await;
    assert!(h.screen(ALICE).text().contains("Main menu"));

    // The free trial, once.
    h.press(&alice, "trial").await;
    h.next("editMessageText", ALICE).await;
    let sub = h.screen(ALICE);
    assert!(sub.text().contains("free trial"), "{}", sub.text());
    let trial = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(trial.plan.0, domain::TRIAL_PLAN_ID);
    h.press(&alice, "menu").await;
    h.press(&alice, "trial").await;
    h.next("editMessageText", ALICE).await;
    assert!(h.screen(ALICE).text().contains("already used"));

    // My subscription: the URL in a code entity, a QR code, platform guides.
    h.press(&alice, "sub").await;
    h.next("editMessageText", ALICE).await;
    let screen = h.screen(ALICE);
    let creds = db.credentials(user.id).await;
    let url = h.app.subscription_url(&creds.sub_token);
    assert!(url.starts_with(PUBLIC_URL));
    assert_eq!(entities(&screen, "code"), vec![url.clone()]);
    let body = fetch_subscription(&h, &url)
        .await
        .expect("the website serves the link");
    assert!(
        body.contains(&creds.vless_uuid.to_string()),
        "the subscription holds the person's node access"
    );
    h.press(&alice, "qr").await;
    let photo = h.next("sendPhoto", ALICE).await;
    assert!(photo.files[0].bytes.starts_with(b"\x89PNG"));
    h.press(&alice, "guide:android").await;
    h.next("editMessageText", ALICE).await;
    assert!(h.screen(ALICE).text().contains("v2rayNG"));

    // Rotating the link: the old one stops working.
    h.press(&alice, "sub").await;
    h.press(&alice, "rotate").await;
    h.press(&alice, "rotate!").await;
    h.next("editMessageText", ALICE).await;
    let rotated = db.credentials(user.id).await;
    assert_ne!(rotated.sub_token, creds.sub_token);
    assert!(
        fetch_subscription(&h, &url).await.is_none(),
        "the old link stopped working"
    );
    assert_eq!(
        entities(&h.screen(ALICE), "code"),
        [h.app.subscription_url(&rotated.sub_token)]
    );

    // Buy a month with Stars.
    h.press(&alice, "buy").await;
    h.press(&alice, "plan:month").await;
    let invoice = h.next("sendInvoice", ALICE).await;
    assert_eq!(invoice.params.str("currency").as_deref(), Some("XTR"));
    assert!(invoice
        .params
        .str("provider_token")
        .is_none_or(|t| t.is_empty()));
    let prices = invoice.params.json("prices").unwrap();
    assert_eq!(prices[0]["amount"], 100);
    let payload = invoice.params.str("payload").unwrap();

    // A checkout at the wrong price is refused; the right one is accepted.
    tg.pre_checkout(&alice, "XTR", 1, &payload);
    let refused =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert_eq!(refused.params.bool("ok"), Some(false));
    assert!(refused.params.str("error_message").is_some());
    tg.pre_checkout(&alice, "XTR", 100, &payload);
    let accepted =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert_eq!(accepted.params.bool("ok"), Some(true));

    let paid = tg.successful_payment(&alice, "XTR", 100, &payload, "stxCHARGE-1");
    tg.inject(paid.clone());
    h.next("sendMessage", ALICE).await;
    assert!(h.screen(ALICE).text().contains("Payment received"));
    let extended = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(extended.ends_at - trial.ends_at, time::Duration::days(30));

    // The same payment delivered again (a replay under a new update id): credited once.
    tg.inject(paid);
    h.next("sendMessage", ALICE).await;
    assert!(h.screen(ALICE).text().contains("already been credited"));
    let after_replay = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(after_replay.ends_at, extended.ends_at);
    assert_eq!(
        db.store.list_payments(Some(user.id)).await.unwrap().len(),
        1
    );

    // Support: the question reaches the operator's chat with a ticket number; the reply to it
    // comes back.
    h.press(&alice, "menu").await;
    h.press(&alice, "support").await;
    tg.send_text(&alice, QUESTION);
    let relay = h.next("sendMessage", SUPPORT_CHAT).await;
    let relayed = h.screen(SUPPORT_CHAT);
    // The person's and the operator's updates run side by side: let the ticket be noted
    // before the operator (who in life takes seconds) answers it.
    h.settle().await;
    assert!(relayed.text().contains('#') && relayed.text().contains(QUESTION));
    assert!(!relayed.text().contains("Alicia") && !relayed.text().contains("alicia_j"));
    assert!(relay.params.str("text").unwrap().contains(QUESTION));
    let operator = tg.user(ADMIN, "Operator", Some("en"));
    tg.reply_text(&operator, SUPPORT_CHAT, relayed.message_id, ANSWER);
    h.tg.wait_for(|c| {
        c.method == "sendMessage"
            && c.params.i64("chat_id") == Some(ALICE)
            && c.params.str("text").is_some_and(|t| t.contains(ANSWER))
    })
    .await;

    // Email: set it.
    h.press(&alice, "menu").await;
    h.press(&alice, "privacy").await;
    h.press(&alice, "email").await;
    tg.send_text(&alice, "not an email");
    h.next("sendMessage", ALICE).await;
    assert!(h.screen(ALICE).text().contains("does not look like"));
    tg.send_text(&alice, EMAIL);
    h.next("sendMessage", ALICE).await;
    assert!(h.screen(ALICE).text().contains(EMAIL));

    // Export: one JSON document with everything, support messages included.
    h.press(&alice, "export").await;
    let document = h.next("sendDocument", ALICE).await;
    let export: Value = serde_json::from_slice(&document.files[0].bytes).unwrap();
    assert_eq!(export["profile"]["telegram_id"], ALICE);
    assert_eq!(export["profile"]["email"], EMAIL);
    assert!(export["consent"]["given_at"].is_string());
    assert_eq!(export["payments"].as_array().unwrap().len(), 1);
    let support = export["support_messages"].as_array().unwrap();
    assert!(support.iter().any(|m| m["body"] == QUESTION));
    assert!(support.iter().any(|m| m["body"] == ANSWER));

    // Delete, with a confirmation step: afterwards nothing about Alicia remains anywhere.
    h.press(&alice, "delete").await;
    assert!(h.screen(ALICE).text().contains("Delete your account?"));
    h.press(&alice, "delete!").await;
    h.next("editMessageText", ALICE).await;
    assert!(h.screen(ALICE).text().contains("account is deleted"));
    h.settle().await;
    assert!(db
        .store
        .user_by_telegram(TelegramId(ALICE))
        .await
        .unwrap()
        .is_none());
    let values = every_stored_value(db).await;
    for (column, value) in &values {
        assert_ne!(
            value,
            &ALICE.to_string(),
            "the Telegram id survives in {column}"
        );
        for personal in [
            "Alicia",
            "Journeywoman",
            "alicia_j",
            EMAIL,
            QUESTION,
            ANSWER,
        ] {
            assert!(!value.contains(personal), "{personal} survives in {column}");
        }
    }
    assert_eq!(
        count(db, "payments").await,
        1,
        "the payment record stays, unlinked"
    );
    if let Some(dir) = db.sqlite_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let haystack = String::from_utf8_lossy(&bytes);
            for personal in [EMAIL, QUESTION, ANSWER, "Journeywoman"] {
                assert!(
                    !haystack.contains(personal),
                    "{personal} survives in the files"
                );
            }
        }
    }
}

store::backend_tests!(the_whole_journey);
