//! `/admin` in the bot, against the Telegram emulator over HTTP and the real website on
//! loopback, on SQLite and PostgreSQL: an admin gets the commands' help and a one-time sign-in
//! link to the web panel (no link preview), which signs them in once; anyone else gets no link.
#![allow(clippy::unwrap_used)]

mod harness;

use harness::{entities, Harness, ADMIN, PUBLIC_URL};
use store::testing::TestDb;
use tg_emulator::SentMessage;

async fn an_admin_gets_a_sign_in_link_that_works_once(db: &TestDb) {
    let h = Harness::start(db).await;
    let admin = h.tg.user(ADMIN, "Admin", Some("en"));
    h.tg.send_text(&admin, "/admin");
    let call = h.next("sendMessage", ADMIN).await;
    let preview = call.params.json("link_preview_options").unwrap();
    assert_eq!(
        preview["is_disabled"], true,
        "Telegram must not open the link"
    );
    let message: SentMessage = h.screen(ADMIN);
    assert!(
        message.text().contains("/stats"),
        "the help: {}",
        message.text()
    );
    assert!(message.text().contains("10 minutes"), "{}", message.text());
    let urls: Vec<String> = message.json["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "text_link")
        .map(|e| e["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 1, "{:?}", entities(&message, "text_link"));
    let token = urls[0]
        .strip_prefix(&format!("{PUBLIC_URL}/admin/login?t="))
        .unwrap()
        .to_owned();

    let site = harness::site(&h.app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, web::router(site)).await.unwrap();
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = || {
        http.post(format!("{base}/admin/login"))
            .form(&[("t", token.as_str())])
            .send()
    };
    let first = sign_in().await.unwrap();
    assert_eq!(first.status().as_u16(), 303);
    assert!(first.headers().contains_key("set-cookie"));
    let second = sign_in().await.unwrap();
    assert_eq!(second.status().as_u16(), 403);
    assert!(!second.headers().contains_key("set-cookie"));
    server.abort();

    // Anyone else who types /admin gets no link.
    let stranger = h.tg.user(3003, "Stranger", Some("en"));
    h.tg.send_text(&stranger, "/admin");
    h.next("sendMessage", stranger.id).await;
    h.settle().await;
    assert!(h
        .tg
        .chat(stranger.id)
        .iter()
        .all(|m| !m.text().contains("admin/login") && !m.json.to_string().contains("admin/login")));
}

async fn the_bots_admin_commands_are_audited_like_the_panels(db: &TestDb) {
    let h = Harness::start(db).await;
    let now = time::OffsetDateTime::now_utc();
    let someone = db.user(8001, now).await;
    let admin = h.tg.user(ADMIN, "Admin", Some("en"));
    for command in [
        format!("/grant {} 10", someone.id.0),
        format!("/block {}", someone.id.0),
        format!("/unblock {}", someone.id.0),
        "/grant 999999 10".to_owned(),
    ] {
        h.tg.send_text(&admin, &command);
        h.next("sendMessage", ADMIN).await;
    }
    let audit: Vec<_> = h
        .app
        .audit_entries(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.admin.0, e.action, e.target))
        .collect();
    let target = Some(app::AuditTarget::User(someone.id.0));
    assert_eq!(
        audit,
        vec![
            (ADMIN, domain::AdminAction::UnblockUser, target),
            (ADMIN, domain::AdminAction::BlockUser, target),
            (ADMIN, domain::AdminAction::ExtendUser, target),
        ]
    );
}

store::backend_tests!(
    an_admin_gets_a_sign_in_link_that_works_once,
    the_bots_admin_commands_are_audited_like_the_panels,
);
