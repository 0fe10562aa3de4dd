//! The admin panel in a real headless browser (Debian's `chromium`, driven through
//! `chromedriver` over WebDriver): the admin opens the bot's login link, presses "Sign in",
//! finds a person, extends, blocks and deletes them, switches a node off, reads the payments,
//! sends a broadcast and watches its progress page, reads the audit list and signs out; the
//! spent link is then refused; and a person saves an email and deletes their account from the
//! account page; and a customer signs in with Telegram (the return page's own script reading
//! Telegram's answer from the fragment), pays by card from `/me` and signs out. Every step clicks the page's own buttons (the panel has no
//! JavaScript), and each page's screenshot is kept under `target/screenshots/admin-*.png`.
//!
//! Needs `chromium` and `chromedriver` on PATH, so it is ignored by default: run with
//! `cargo test -p web --test admin_browser -- --ignored`.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use domain::{AdminAction, TelegramId};
use fantoccini::{Client, ClientBuilder, Locator};
use store::testing::TestDb;
use time::OffsetDateTime;

const ADMIN: i64 = 4_242_000_001;

/// Kills chromedriver (and with it the browser) when the test ends, passed or not.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> (Driver, Client) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Debian's chromedriver must be installed (apt-get install chromium-driver)");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--window-size=1100,1600"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connected =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await;
        if let Ok(client) = connected {
            return (driver, client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits until the page shows `text`, then keeps its screenshot as `admin-{name}.png`.
async fn shows(browser: &Client, text: &str, name: &str) -> String {
    let mut source = String::new();
    for _ in 0..100 {
        source = browser.source().await.unwrap();
        if source.contains(text) {
            let png = browser.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{name}");
            std::fs::write(screenshot_dir().join(format!("admin-{name}.png")), png).unwrap();
            return source;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed {text:?}:\n{source}");
}

async fn press(browser: &Client, label: &str) {
    let xpath = format!("//button[normalize-space()='{label}']");
    browser
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no {label} button: {e}"))
        .click()
        .await
        .unwrap();
}

/// The site with its use cases on a loopback port (`ADMIN` among its admins): its base URL,
/// the app, and the server's task.
async fn serve_site(
    db: &TestDb,
) -> (
    String,
    app::App,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let public_url: domain::PublicUrl = base.parse().unwrap();
    let app = app::App::new(
        db.store.clone(),
        app::AppSettings {
            public_url: public_url.clone(),
            admins: vec![ADMIN],
            ..app::AppSettings::default()
        },
    );
    let site = web::Site::new(web::SiteSettings {
        public_url,
        ..web::SiteSettings::default()
    })
    .with_app(app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, web::router(site)).await });
    (base, app, server)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's chromium and chromedriver; run with --ignored"]
async fn an_admin_signs_in_with_the_bots_link_and_works_through_every_page_in_chromium() {
    let db = TestDb::sqlite().await;
    let (base, app, server) = serve_site(&db).await;
    let now = OffsetDateTime::now_utc();
    let someone = db
        .store
        .create_user(&store::testing::someone::new_user(now), now)
        .await
        .unwrap();
    db.grant(someone.id, "month", 30, now).await;
    db.paid(&store::testing::card_payment(someone.id, Some("yk-1"), now))
        .await;
    db.tls_node("eu-1", "EU", "eu.example").await;
    let link = app
        .issue_admin_login(TelegramId(ADMIN), now)
        .await
        .unwrap()
        .url;

    let (_driver, browser) = start_driver().await;
    // Unsigned, the panel only says how to sign in.
    browser.goto(&format!("{base}/admin")).await.unwrap();
    shows(&browser, "Send /admin to the bot", "signed-out").await;

    browser.goto(&link).await.unwrap();
    shows(&browser, "Sign in", "login").await;
    press(&browser, "Sign in").await;
    shows(&browser, "on a trial", "dashboard").await;

    let id = someone.id.0;
    browser.goto(&format!("{base}/admin/users")).await.unwrap();
    shows(&browser, "Telegram id, internal id or @username", "users").await;
    let search = browser.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("@zerelda_q_tg").await.unwrap();
    press(&browser, "Find").await;
    shows(&browser, &format!("User {id}"), "user").await;
    press(&browser, "Extend").await;
    shows(&browser, "Days added.", "extended").await;
    press(&browser, "Block").await;
    shows(&browser, "Blocked: their access ends", "blocked").await;
    assert!(db.store.user(someone.id).await.unwrap().unwrap().blocked);

    browser
        .goto(&format!("{base}/admin/payments"))
        .await
        .unwrap();
    shows(&browser, "Refund", "payments").await;

    browser.goto(&format!("{base}/admin/nodes")).await.unwrap();
    shows(&browser, "eu-1", "nodes").await;
    press(&browser, "Disable").await;
    shows(&browser, "disabled", "node-disabled").await;

    browser
        .goto(&format!("{base}/admin/users/{id}/delete"))
        .await
        .unwrap();
    shows(&browser, "Yes, delete user", "delete").await;
    browser
        .find(Locator::Css("input[name=confirm]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    press(&browser, "Delete").await;
    shows(&browser, "is erased", "deleted").await;
    assert!(db.store.user(someone.id).await.unwrap().is_none());

    browser
        .goto(&format!("{base}/admin/broadcasts"))
        .await
        .unwrap();
    shows(&browser, "No broadcasts yet", "broadcasts").await;
    let text = browser
        .find(Locator::Css("textarea[name=text]"))
        .await
        .unwrap();
    text.send_keys("Maintenance tonight").await.unwrap();
    press(&browser, "Send").await;
    // Nobody is left to send to (the person was deleted); the bot is not running here, so the
    // page refreshes itself while the job waits.
    let progress = shows(&browser, "Broadcast #1", "broadcast-progress").await;
    assert!(progress.contains("http-equiv=\"refresh\""), "{progress}");

    browser.goto(&format!("{base}/admin/audit")).await.unwrap();
    let audit = shows(&browser, "user.delete", "audit").await;
    for action in [
        "sign_in",
        "user.extend",
        "user.block",
        "node.disable",
        "broadcast.send",
    ] {
        assert!(
            audit.contains(action),
            "{action} missing from the audit page"
        );
    }
    let actions: Vec<AdminAction> = app
        .audit_entries(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            AdminAction::SendBroadcast,
            AdminAction::DeleteUser,
            AdminAction::DisableNode,
            AdminAction::BlockUser,
            AdminAction::ExtendUser,
            AdminAction::SignIn
        ]
    );

    press(&browser, "Sign out").await;
    shows(&browser, "You are signed out", "signed-out-after").await;
    browser.goto(&format!("{base}/admin/nodes")).await.unwrap();
    shows(&browser, "Send /admin to the bot", "after-sign-out").await;
    // The link was spent by the first sign-in.
    browser.goto(&link).await.unwrap();
    shows(&browser, "Sign in", "login-again").await;
    press(&browser, "Sign in").await;
    shows(&browser, "Sign-in refused", "refused").await;

    browser.close().await.unwrap();
    server.abort();
}

/// The person's own data controls through the same browser: the site's `no-referrer` policy
/// makes Chromium send `Origin: null` with our own forms, which must not be mistaken for
/// another site's (the forms used to be refused in real browsers).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's chromium and chromedriver; run with --ignored"]
async fn a_person_saves_an_email_and_deletes_their_account_in_chromium() {
    let db = TestDb::sqlite().await;
    let (base, app, server) = serve_site(&db).await;
    let now = OffsetDateTime::now_utc();
    let user = db.subscriber(7, "month", 30, now).await;
    let link = app.issue_account_link(user.id, now).await.unwrap().url;
    let (_driver, browser) = start_driver().await;

    browser.goto(&link).await.unwrap();
    shows(&browser, "name=\"email\"", "account").await;
    browser
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys("person@example.org")
        .await
        .unwrap();
    browser
        .find(Locator::Css("button[value=save]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shows(&browser, "person@example.org", "account-email").await;
    let stored = db.store.user(user.id).await.unwrap().unwrap();
    assert_eq!(
        stored.email.as_ref().map(domain::Email::as_str),
        Some("person@example.org")
    );

    let token = &link[link.find("/account/").unwrap()..];
    browser
        .goto(&format!("{base}{token}/delete"))
        .await
        .unwrap();
    shows(&browser, "name=\"confirm\"", "account-delete").await;
    browser
        .find(Locator::Css("input[name=confirm]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .find(Locator::Css("button.danger"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        if db.store.user(user.id).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        db.store.user(user.id).await.unwrap().is_none(),
        "the account was not erased:\n{}",
        browser.source().await.unwrap()
    );
    browser.close().await.unwrap();
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's chromium and chromedriver; run with --ignored"]
async fn a_customer_signs_in_with_telegram_and_pays_by_card_in_chromium() {
    use base64::Engine as _;
    use card_shop::{loopback_is_yookassa, Shop, BOT_TOKEN};

    let db = TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, _) = shop.customer(4242).await;
    let (_driver, browser) = start_driver().await;

    browser.goto(&shop.url("/login")).await.unwrap();
    let login = shows(&browser, "id=\"telegram-login\"", "login").await;
    assert!(
        login.contains("https://oauth.telegram.org/auth?bot_id=777000"),
        "{login}"
    );

    // Telegram's login page sends the person back with its signed answer in the fragment, as
    // base64 of JSON; the page's script posts it and the site opens /me.
    let mut fields = std::collections::BTreeMap::from([
        ("id".to_owned(), "4242".to_owned()),
        ("first_name".to_owned(), "Anna".to_owned()),
        (
            "auth_date".to_owned(),
            OffsetDateTime::now_utc().unix_timestamp().to_string(),
        ),
    ]);
    let hash = domain::telegram_login::sign(&fields, BOT_TOKEN);
    fields.insert("hash".into(), hash);
    let json = serde_json::json!({
        "id": 4242,
        "first_name": "Anna",
        "auth_date": fields["auth_date"].parse::<i64>().unwrap(),
        "hash": fields["hash"],
    });
    let result = base64::engine::general_purpose::STANDARD.encode(json.to_string());
    browser
        .goto(&shop.url(&format!("/login/telegram#tgAuthResult={result}")))
        .await
        .unwrap();
    shows(&browser, "id=\"sign-out\"", "me").await;
    let here = browser.current_url().await.unwrap();
    assert_eq!(here.path(), "/me");
    assert_eq!(here.fragment(), None, "the answer left the address bar");

    // Paying: the button creates the payment at YooKassa and redirects there. (The emulator
    // serves plain HTTP, which the page's `form-action 'self' https:` rightly keeps the browser
    // from following, so the payment is completed at the emulator directly, as a person would on
    // YooKassa's page.)
    browser
        .find(Locator::Css("button[name=pay][value=month]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids = shop.yk.payment_ids();
        if !ids.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ids.len(), 1, "the button created one payment");
    shop.yk.succeed(&ids[0]).unwrap();
    assert_eq!(shop.notify(&ids[0]).await, 200);
    assert!(shop.subscription(&user).await.is_some());
    browser.goto(&shop.url("/me")).await.unwrap();
    shows(&browser, "id=\"days-left\">30<", "me-paid").await;

    browser
        .find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shows(&browser, "/login", "signed-out").await;
    browser.goto(&shop.url("/me")).await.unwrap();
    shows(&browser, "id=\"telegram-login\"", "login-again").await;
}
