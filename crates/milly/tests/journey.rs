//! The story the product exists for, with every real part: a person finds the bot, agrees to
//! the privacy policy, takes the free trial, opens "My subscription", imports the subscription
//! URL into sing-box and is connected — through `milly serve` with the Bot API emulator standing
//! in for Telegram — and the same person paying by card on YooKassa's page, with the YooKassa
//! emulator standing in for YooKassa.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use client::ClientLink;
use testkit::http;
use testkit::singbox::ClientOptions;
use testkit::{traffic, EchoMode, MillyHome, Peer, PeerKind, TcpEcho};
use tg_emulator::{Emulator, SentMessage, TgUser};

const TOKEN: &str = "7000000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const ALICE: i64 = 1_000_222_333;

/// Presses the newest button with callback data `data` in the person's chat.
async fn press(tg: &Emulator, who: &TgUser, data: &str) {
    let messages = tg.chat(who.id);
    let screen = messages
        .iter()
        .rev()
        .find(|m| m.buttons().iter().any(|b| b == data))
        .unwrap_or_else(|| {
            panic!(
                "no button {data}; last: {:?}",
                messages.last().map(SentMessage::text)
            )
        });
    tg.press(who, screen.message_id, data);
    tg.wait_drained().await;
}

/// Waits until the bot's newest message in the chat satisfies `pred`.
async fn screen_where(
    tg: &Emulator,
    chat: i64,
    pred: impl Fn(&SentMessage) -> bool,
) -> SentMessage {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(m) = tg.last_message(chat).filter(|m| pred(m)) {
            return m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot never showed the expected screen: {:?}",
            tg.last_message(chat).map(|m| m.text())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A GET to the website, as an app fetching its subscription would: (head, body).
async fn get(addr: SocketAddr, path_and_query: &str, user_agent: &str) -> (String, String) {
    let answer = http::fetch(addr, path_and_query, &[("User-Agent", user_agent)])
        .await
        .unwrap();
    (answer.head, answer.body)
}

/// A form POST to the website, as a browser pressing a button would: (head, body).
async fn post_form(addr: SocketAddr, path: &str, form: &str) -> (String, String) {
    let answer = http::post_form(addr, path, &[("User-Agent", "Mozilla/5.0")], form)
        .await
        .unwrap();
    (answer.head, answer.body)
}

/// Opens the bot's card checkout link (a page, nothing paid yet) and presses its button: the
/// redirect's head.
async fn pay_by_card(addr: SocketAddr, yk: &yookassa_emulator::Emulator, link: &str) -> String {
    let path = &link[link.find("/pay/checkout").unwrap()..];
    let (head, page) = get(addr, path, "TelegramBot (like TwitterBot)").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(page.contains("<form method=post"), "{page}");
    assert!(yk.payment_ids().is_empty(), "a link preview paid nothing");
    let query = &path[path.find('?').unwrap() + 1..];
    let (head, _) = post_form(addr, "/pay/checkout", query).await;
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_goes_from_the_bot_to_a_working_connection() {
    let Some(sing_box) = PeerKind::SingBox.require() else {
        return;
    };
    let tg = Emulator::start(TOKEN).await.unwrap();
    let extra = format!(
        "[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n",
        tg.api_url()
    );
    let home = MillyHome::new(&extra).unwrap();
    let _serve = home.serve().await.unwrap();
    tg.wait_for(|c| c.method == "setMyCommands").await;

    // An update the Bot API library cannot read first: skipped, counted, and nothing behind it
    // waits.
    let alice = tg.user(ALICE, "Alice", Some("en"));
    tg.inject_unparseable(&alice);

    // /start, then "I agree": the account exists from that moment.
    tg.send_text(&alice, "/start");
    screen_where(&tg, ALICE, |m| {
        m.buttons().iter().any(|b| b.starts_with("agree:"))
    })
    .await;
    press(&tg, &alice, "agree:en").await;
    screen_where(&tg, ALICE, |m| m.buttons().iter().any(|b| b == "trial")).await;

    // The free trial opens My subscription with the URL to import.
    press(&tg, &alice, "trial").await;
    let screen = screen_where(&tg, ALICE, |m| m.text().contains("/sub/")).await;
    let text = screen.text();
    let start = text.find("/sub/").unwrap();
    let token: String = text[start + 5..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 22, "{text}");

    // The app fetches the subscription: a base64 list of vless:// links, with the apps' headers.
    let (head, body) = get(home.web_addr(), &format!("/sub/{token}"), "v2rayNG/1.9.16").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("subscription-userinfo:"),
        "{head}"
    );
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap();
    let links = String::from_utf8(decoded).unwrap();
    let link =
        ClientLink::parse(links.lines().find(|l| l.starts_with("vless://")).unwrap()).unwrap();
    assert_eq!(
        (link.host.as_str(), link.port),
        ("127.0.0.1", home.node_addr().port())
    );

    // sing-box, configured from that link, carries traffic byte for byte.
    testkit::wait_admitted(home.node_addr(), &link, Duration::from_secs(2))
        .await
        .unwrap();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let client = Peer::client(
        PeerKind::SingBox,
        &sing_box,
        &link,
        &ClientOptions::default(),
    )
    .await
    .unwrap();
    let payload = traffic::random_bytes(256 * 1024);
    traffic::tcp_roundtrip(client.addr(), echo.addr(), &payload)
        .await
        .unwrap();

    // The subscription URL opens nothing of the person's data any more; the bot's short-lived
    // account link does.
    let (head, _) = get(home.web_addr(), &format!("/sub/{token}/export"), FIREFOX).await;
    assert!(head.starts_with("HTTP/1.1 410"), "{head}");
    press(&tg, &alice, "menu").await;
    screen_where(&tg, ALICE, |m| m.buttons().iter().any(|b| b == "privacy")).await;
    press(&tg, &alice, "privacy").await;
    screen_where(&tg, ALICE, |m| m.buttons().iter().any(|b| b == "weblink")).await;
    press(&tg, &alice, "weblink").await;
    let message = screen_where(&tg, ALICE, |m| m.text().contains("Open my data page")).await;
    let url = message.json["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "text_link")
        .and_then(|e| e["url"].as_str())
        .unwrap()
        .to_owned();
    let path = &url[url.find("/account/").unwrap()..];
    let (head, body) = get(home.web_addr(), path, FIREFOX).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("Download my data"), "{body}");

    // The operator sees the skipped update in /admin/metrics, as a count only.
    let token = home.admin_token().unwrap();
    let metrics = http::admin_metrics(home.web_addr(), &token).await.unwrap();
    assert!(
        metrics.contains("\nmilly_bot_unreadable_updates_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nmilly_bot_shed_updates_total 0\n"),
        "{metrics}"
    );
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The URL of the newest URL button whose link contains `needle`.
fn url_button(tg: &Emulator, chat: i64, needle: &str) -> String {
    tg.chat(chat)
        .iter()
        .rev()
        .flat_map(|m| {
            m.json["reply_markup"]["inline_keyboard"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| row.as_array())
                .flatten()
                .filter_map(|b| b["url"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .find(|u| u.contains(needle))
        .unwrap_or_else(|| panic!("no button linking to {needle}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_pays_by_card_from_the_bot_and_hears_of_it_in_the_bot() {
    const SHOP: &str = "506751";
    const KEY: &str = "test_secret_key_for_the_journey";
    let tg = Emulator::start(TOKEN).await.unwrap();
    let yk = yookassa_emulator::Emulator::start(SHOP, KEY).await.unwrap();
    let extra = format!(
        "[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n\n\
         [yookassa]\nenabled = true\nshop_id = \"{SHOP}\"\nsecret_key = \"{KEY}\"\n\
         api_url = \"{}\"\n# the emulator posts from loopback, not YooKassa's networks\n\
         check_source_ip = false\n",
        tg.api_url(),
        yk.url()
    );
    let home = MillyHome::new(&extra).unwrap();
    let _serve = home.serve().await.unwrap();
    tg.wait_for(|c| c.method == "setMyCommands").await;

    let bob = tg.user(ALICE + 1, "Bob", Some("en"));
    tg.send_text(&bob, "/start");
    screen_where(&tg, bob.id, |m| {
        m.buttons().iter().any(|b| b.starts_with("agree:"))
    })
    .await;
    press(&tg, &bob, "agree:en").await;
    press(&tg, &bob, "buy").await;

    // The card button leads to the website's checkout, which sends the person to YooKassa.
    let checkout = url_button(&tg, bob.id, "/pay/checkout");
    let head = pay_by_card(home.web_addr(), &yk, &checkout).await;
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    assert!(
        head.contains(&yk.url()),
        "redirected to YooKassa's page: {head}"
    );

    // YooKassa takes the money and notifies the website; the bot tells the person.
    let id = yk.payment_ids().pop().unwrap();
    yk.succeed(&id).unwrap();
    let webhook = format!("http://{}/webhooks/yookassa", home.web_addr());
    assert_eq!(yk.notify(&id, &webhook).await.unwrap(), 200);
    assert_eq!(
        yk.notify(&id, &webhook).await.unwrap(),
        200,
        "a repeated notification is fine"
    );
    screen_where(&tg, bob.id, |m| m.text().contains("/sub/")).await;

    let shown = home.run(&["user", "show", &bob.id.to_string()]).unwrap();
    assert!(shown.contains("status: active"), "{shown}");
    let payments = home.run(&["payment", "list"]).unwrap();
    assert_eq!(
        payments.lines().filter(|l| l.contains("succeeded")).count(),
        1,
        "credited once: {payments}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_payment_made_after_erasure_goes_back_and_the_admins_hear_of_it_once() {
    const SHOP: &str = "506752";
    const KEY: &str = "test_secret_key_for_the_erasure";
    const ADMIN: i64 = 1_000_999_001;
    let tg = Emulator::start(TOKEN).await.unwrap();
    let yk = yookassa_emulator::Emulator::start(SHOP, KEY).await.unwrap();
    let extra = format!(
        "[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\nadmins = [{ADMIN}]\n\n\
         [yookassa]\nenabled = true\nshop_id = \"{SHOP}\"\nsecret_key = \"{KEY}\"\n\
         api_url = \"{}\"\ncheck_source_ip = false\n",
        tg.api_url(),
        yk.url()
    );
    let home = MillyHome::new(&extra).unwrap();
    let _serve = home.serve().await.unwrap();
    tg.wait_for(|c| c.method == "setMyCommands").await;
    tg.user(ADMIN, "Admin", Some("en"));

    let cara = tg.user(ALICE + 2, "Cara", Some("en"));
    tg.send_text(&cara, "/start");
    screen_where(&tg, cara.id, |m| {
        m.buttons().iter().any(|b| b.starts_with("agree:"))
    })
    .await;
    press(&tg, &cara, "agree:en").await;
    press(&tg, &cara, "buy").await;
    let checkout = url_button(&tg, cara.id, "/pay/checkout");
    let head = pay_by_card(home.web_addr(), &yk, &checkout).await;
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");

    // The person erases their account with YooKassa's page still open, then pays anyway.
    home.run(&["user", "delete", &cara.id.to_string()]).unwrap();
    let id = yk.payment_ids().pop().unwrap();
    yk.succeed(&id).unwrap();
    let webhook = format!("http://{}/webhooks/yookassa", home.web_addr());
    for _ in 0..2 {
        assert_eq!(yk.notify(&id, &webhook).await.unwrap(), 200);
    }

    assert_eq!(yk.refunds().len(), 1, "the money went back once");
    let notice = screen_where(&tg, ADMIN, |m| m.text().contains("refunded automatically")).await;
    assert!(notice.text().contains(".00 RUB"), "{}", notice.text());
    assert!(!notice.text().contains("Cara"), "{}", notice.text());
    assert!(
        !notice.text().contains(&cara.id.to_string()),
        "{}",
        notice.text()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let told = tg
        .chat(ADMIN)
        .iter()
        .filter(|m| m.text().contains("refunded automatically"))
        .count();
    assert_eq!(told, 1, "the admins are told once");
    let payments = home.run(&["payment", "list"]).unwrap();
    assert!(payments.contains("refunded"), "{payments}");
}
