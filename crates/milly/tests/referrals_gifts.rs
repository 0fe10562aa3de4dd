//! Referrals and gifts with every real part: `milly serve` with the Bot API emulator standing in
//! for Telegram and the YooKassa emulator for YooKassa. A newcomer starts the bot through
//! someone's invitation link and buys a month as a gift by card (the notification delivered
//! twice): the bot shows the buyer the gift's code, the first payment earns the referrer
//! `[referrals] reward_days` once, and a third person redeems the gift through its link.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use testkit::http;
use testkit::MillyHome;
use tg_emulator::{Emulator, SentMessage, TgUser};

const TOKEN: &str = "7000000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const SHOP: &str = "506761";
const KEY: &str = "test_secret_key_for_the_gifts";
const BOB: i64 = 1_000_333_001;
const CAROL: i64 = 1_000_333_002;
const DAVE: i64 = 1_000_333_003;

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

/// Sends `start` and presses the consent screen's "I agree" (carrying the link, if any).
async fn sign_up(tg: &Emulator, who: &TgUser, start: &str) {
    tg.send_text(who, start);
    let consent = screen_where(tg, who.id, |m| {
        m.buttons().iter().any(|b| b.starts_with("agree"))
    })
    .await;
    let agree = consent
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("agree"))
        .unwrap();
    press(tg, who, &agree).await;
}

/// The newest URL button whose link contains `needle`.
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

/// The first `https://t.me/...?start=` link in `text`, as the `/start` message it stands for.
fn start_message(text: &str, prefix: &str) -> String {
    let link = text
        .split_whitespace()
        .find(|w| w.contains(&format!("?start={prefix}")))
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    format!("/start {}", link.split_once("?start=").unwrap().1)
}

/// Whole days until the person's subscription ends, as `milly user show` says.
fn days_left(home: &MillyHome, telegram_id: i64) -> i64 {
    let shown = home
        .run(&["user", "show", &telegram_id.to_string()])
        .unwrap();
    let ends = shown
        .lines()
        .find_map(|l| l.strip_prefix("ends: "))
        .unwrap_or_else(|| panic!("{shown}"));
    let ends =
        time::OffsetDateTime::parse(ends.trim(), &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| panic!("{shown}"));
    let left = ends - time::OffsetDateTime::now_utc();
    (left + time::Duration::hours(1)).whole_days()
}

async fn checkout(addr: SocketAddr, link: &str) -> String {
    let path = &link[link.find("/pay/checkout").unwrap()..];
    let answer = http::fetch(addr, path, &[("User-Agent", "Mozilla/5.0")])
        .await
        .unwrap();
    assert!(
        answer.body.contains(r#"name="gift" value="1""#),
        "{}",
        answer.body
    );
    let query = &path[path.find('?').unwrap() + 1..];
    let answer = http::post_form(
        addr,
        "/pay/checkout",
        &[("User-Agent", "Mozilla/5.0")],
        query,
    )
    .await
    .unwrap();
    answer.head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_newcomer_buys_a_gift_by_card_and_a_third_person_redeems_it() {
    let tg = Emulator::start(TOKEN).await.unwrap();
    let yk = yookassa_emulator::Emulator::start(SHOP, KEY).await.unwrap();
    let extra = format!(
        "[telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n\n\
         [yookassa]\nenabled = true\nshop_id = \"{SHOP}\"\nsecret_key = \"{KEY}\"\n\
         api_url = \"{}\"\n# the emulator posts from loopback, not YooKassa's networks\n\
         check_source_ip = false\n\n\
         [referrals]\nreward_days = 5\nwelcome_days = 2\n",
        tg.api_url(),
        yk.url()
    );
    let home = MillyHome::new(&extra).unwrap();
    let _serve = home.serve().await.unwrap();
    tg.wait_for(|c| c.method == "setMyCommands").await;

    // Bob signs up and opens his invitation link.
    let bob = tg.user(BOB, "Bob", Some("en"));
    sign_up(&tg, &bob, "/start").await;
    press(&tg, &bob, "invite").await;
    let invite = screen_where(&tg, BOB, |m| m.text().contains("?start=ref_")).await;
    assert!(invite.text().contains("+5 days"), "{}", invite.text());

    // Carol starts the bot through it and buys a month as a gift by card.
    let carol = tg.user(CAROL, "Carol", Some("en"));
    sign_up(&tg, &carol, &start_message(&invite.text(), "ref_")).await;
    screen_where(&tg, CAROL, |m| m.text().contains("invitation")).await;
    press(&tg, &carol, "gifts").await;
    let link = url_button(&tg, CAROL, "gift=1");
    let head = checkout(home.web_addr(), &link).await;
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let id = yk.payment_ids().pop().unwrap();
    assert_eq!(yk.payment(&id).unwrap()["metadata"]["gift"], "1");
    yk.succeed(&id).unwrap();
    let webhook = format!("http://{}/webhooks/yookassa", home.web_addr());
    let (a, b) = tokio::join!(yk.notify(&id, &webhook), yk.notify(&id, &webhook));
    assert_eq!((a.unwrap(), b.unwrap()), (200, 200));

    // The bot shows Carol (only her) the code.
    let paid = screen_where(&tg, CAROL, |m| m.text().contains("Gift paid")).await;
    let redeem = start_message(&paid.text(), "gift_");
    assert!(tg
        .chat(BOB)
        .iter()
        .all(|m| !m.text().contains(&redeem[7..])));
    assert_eq!(
        tg.chat(CAROL)
            .iter()
            .filter(|m| m.text().contains("Gift paid"))
            .count(),
        1,
        "one code, once"
    );

    // Her first payment earned Bob 5 days, once; Carol got her 2 welcome days.
    assert_eq!(days_left(&home, BOB), 5, "the referrer's reward, once");
    assert_eq!(
        days_left(&home, CAROL),
        2,
        "the newcomer's welcome days; the gift is not hers"
    );
    let payments = home.run(&["payment", "list"]).unwrap();
    assert_eq!(
        payments.lines().filter(|l| l.contains("succeeded")).count(),
        1,
        "{payments}"
    );

    // Dave opens the gift's link: he signs up and has the month.
    let dave = tg.user(DAVE, "Dave", Some("en"));
    sign_up(&tg, &dave, &redeem).await;
    screen_where(&tg, DAVE, |m| m.text().contains("Gift redeemed: +30 days")).await;
    assert_eq!(days_left(&home, DAVE), 30);

    // The privacy page lists the new data.
    let page = http::fetch(
        home.web_addr(),
        "/privacy",
        &[("User-Agent", "Mozilla/5.0")],
    )
    .await
    .unwrap()
    .body;
    for column in [
        "referral_codes.code",
        "referrals.referrer_id",
        "gifts.code",
        "gifts.redeemed_by",
    ] {
        assert!(page.contains(column), "{column} is on the privacy page");
    }
}
