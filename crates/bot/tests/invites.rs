//! Referrals and gifts through the bot, against the Telegram emulator over HTTP, on SQLite and
//! PostgreSQL: a newcomer who starts the bot through someone's link and pays with Stars earns
//! the referrer their days once (the successful_payment replayed, and a second charge at the
//! same moment, change nothing), the referrer sees counts only, self-referral and an erased
//! account coming back earn nothing; a plan bought as a gift with Stars credits nobody, shows
//! its code to the buyer only, and the code works once, through the link or `/gift CODE`.
#![allow(clippy::unwrap_used)]

mod harness;

use domain::{TelegramId, UserId};
use harness::Harness;
use store::testing::TestDb;
use tg_emulator::TgUser;

const ALICE: i64 = 1_000_200_001;
const BOB: i64 = 1_000_200_002;
const CAROL: i64 = 1_000_200_003;
const DAVE: i64 = 1_000_200_004;

async fn user_id(db: &TestDb, telegram: i64) -> UserId {
    db.store
        .user_by_telegram(TelegramId(telegram))
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn days(db: &TestDb, telegram: i64) -> Option<i64> {
    let id = user_id(db, telegram).await;
    db.store
        .subscription(id)
        .await
        .unwrap()
        .map(|s| (s.ends_at - s.activated_at).whole_days())
}

/// A person who starts the bot with `start` (a link's `/start` message) and agrees.
async fn sign_up(h: &Harness, who: &TgUser, start: &str) {
    h.tg.register(who);
    h.tg.send_text(who, start);
    h.settle().await;
    let consent = h.screen(who.id);
    let agree = consent
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("agree"))
        .unwrap();
    h.press(who, &agree).await;
}

/// `who` sends /menu: the menu, fresh.
async fn menu(h: &Harness, who: &TgUser) {
    h.tg.send_text(who, "/menu");
    h.settle().await;
}

/// The `t.me` link the invite screen shows `who`.
async fn invite_link(h: &Harness, who: &TgUser) -> String {
    menu(h, who).await;
    h.press(who, "invite").await;
    let screen = h.screen(who.id);
    harness::entities(&screen, "code")
        .into_iter()
        .find(|c| c.starts_with("https://t.me/"))
        .unwrap_or_else(|| panic!("no link in {}", screen.text()))
}

/// The `/start` message a link stands for.
fn start_of(link: &str) -> String {
    format!("/start {}", link.split_once("?start=").unwrap().1)
}

/// Buys the month with Stars: the invoice from pressing `data`, accepted and paid under
/// `charge`; returns the update body so it can be replayed.
async fn pay_stars(h: &Harness, who: &TgUser, press: &[&str], charge: &str) -> serde_json::Value {
    menu(h, who).await;
    for data in press {
        h.press(who, data).await;
    }
    let invoice =
        h.tg.wait_for(|c| c.method == "sendInvoice" && c.params.i64("chat_id") == Some(who.id))
            .await;
    let payload = invoice.params.str("payload").unwrap();
    h.tg.pre_checkout(who, "XTR", 100, &payload);
    let answer =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert_eq!(answer.params.bool("ok"), Some(true));
    h.tg.successful_payment(who, "XTR", 100, &payload, charge)
}

async fn a_referred_newcomers_first_stars_payment_rewards_once(db: &TestDb) {
    let h = Harness::start(db).await;
    let alice = h.tg.user(ALICE, "Alice", Some("en"));
    sign_up(&h, &alice, "/start").await;
    let link = invite_link(&h, &alice).await;
    assert!(link.contains("?start=ref_"), "{link}");
    assert!(!link.contains(&ALICE.to_string()));
    assert!(h
        .screen(ALICE)
        .text()
        .contains("Joined through it: 0, of whom paid: 0"));

    // Alice's own link does nothing for her.
    h.tg.send_text(&alice, &start_of(&link));
    h.settle().await;
    assert!(h.screen(ALICE).text().contains("already have an account"));

    // Bob starts the bot through it, agrees, and pays for a month, twice at once (two
    // charges), and the first delivery is replayed.
    let bob = h.tg.user(BOB, "Bob", Some("en"));
    sign_up(&h, &bob, &start_of(&link)).await;
    assert!(
        h.screen(BOB).text().contains("invitation"),
        "{}",
        h.screen(BOB).text()
    );
    assert_eq!(days(db, ALICE).await, None, "joining earns nothing yet");
    // A trial is no payment.
    menu(&h, &bob).await;
    h.press(&bob, "trial").await;
    assert_eq!(days(db, ALICE).await, None);
    let first = pay_stars(&h, &bob, &["buy", "plan:month"], "charge-bob-1").await;
    let second = pay_stars(&h, &bob, &["buy", "plan:month"], "charge-bob-2").await;
    h.tg.inject(first.clone());
    h.tg.inject(second);
    h.tg.inject(first);
    h.settle().await;
    assert_eq!(
        days(db, ALICE).await,
        Some(7),
        "the referrer's reward, once"
    );
    let bob_id = user_id(db, BOB).await;
    assert_eq!(db.store.list_payments(Some(bob_id)).await.unwrap().len(), 2);

    // Alice sees counts, never who.
    menu(&h, &alice).await;
    h.press(&alice, "invite").await;
    let screen = h.screen(ALICE).text();
    assert!(
        screen.contains("Joined through it: 1, of whom paid: 1"),
        "{screen}"
    );
    assert!(!screen.contains("Bob"));

    // Bob deletes his account and comes back through Carol's link: not a newcomer any more.
    let carol = h.tg.user(CAROL, "Carol", Some("en"));
    sign_up(&h, &carol, "/start").await;
    let carols = invite_link(&h, &carol).await;
    menu(&h, &bob).await;
    h.press(&bob, "privacy").await;
    h.press(&bob, "delete").await;
    h.press(&bob, "delete!").await;
    sign_up(&h, &bob, &start_of(&carols)).await;
    let again = pay_stars(&h, &bob, &["buy", "plan:month"], "charge-bob-3").await;
    h.tg.inject(again);
    h.settle().await;
    assert_eq!(
        days(db, CAROL).await,
        None,
        "an erased account coming back earns nothing"
    );
    assert_eq!(
        days(db, ALICE).await,
        Some(7),
        "and Alice's link is gone with the old Bob"
    );
}

async fn a_stars_gift_is_paid_once_and_redeemed_once(db: &TestDb) {
    let h = Harness::start_with(db, |s| {
        s.app.referrals.welcome_days = 0;
    })
    .await;
    let alice = h.tg.user(ALICE, "Alice", Some("en"));
    sign_up(&h, &alice, "/start").await;
    menu(&h, &alice).await;
    h.press(&alice, "gifts").await;
    assert!(h
        .screen(ALICE)
        .buttons()
        .contains(&"giftplan:month".to_owned()));
    let paid = pay_stars(&h, &alice, &["giftplan:month"], "charge-gift-1").await;
    let invoice_payload = paid["message"]["successful_payment"]["invoice_payload"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(invoice_payload.starts_with("gift:"), "{invoice_payload}");
    h.tg.inject(paid.clone());
    h.settle().await;
    let message = h.screen(ALICE);
    assert!(message.text().contains("Gift paid"), "{}", message.text());
    let link = message
        .text()
        .split_whitespace()
        .find(|w| w.starts_with("https://t.me/") && w.contains("?start=gift_"))
        .unwrap_or_else(|| panic!("no gift link in {}", message.text()))
        .to_owned();
    let code = link.split_once("?start=gift_").unwrap().1.to_owned();
    assert_eq!(
        days(db, ALICE).await,
        None,
        "a gift gives the buyer nothing"
    );
    // Telegram delivers the payment again: no second gift.
    h.tg.inject(paid);
    h.settle().await;
    assert!(h.screen(ALICE).text().contains("already been credited"));
    assert_eq!(
        db.store
            .gifts_bought(user_id(db, ALICE).await)
            .await
            .unwrap()
            .len(),
        1
    );

    // The gifts screen keeps showing Alice (only her) the code until it is redeemed.
    menu(&h, &alice).await;
    h.press(&alice, "gifts").await;
    assert!(
        h.screen(ALICE).text().contains(&code),
        "{}",
        h.screen(ALICE).text()
    );

    // Dave, new, opens the link, reads the consent in Russian, switches back, agrees: he gets
    // the month.
    let dave = h.tg.user(DAVE, "Dave", Some("ru"));
    h.tg.register(&dave);
    h.tg.send_text(&dave, &start_of(&link));
    h.settle().await;
    let switch = h
        .screen(DAVE)
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("clang+:en:gift_"))
        .unwrap();
    h.press(&dave, &switch).await;
    let agree = h
        .screen(DAVE)
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("agree+:en:gift_"))
        .unwrap();
    h.press(&dave, &agree).await;
    assert!(
        h.screen(DAVE).text().contains("Gift redeemed"),
        "{}",
        h.screen(DAVE).text()
    );
    assert_eq!(days(db, DAVE).await, Some(30));
    // Bob types the same code: used already.
    let bob = h.tg.user(BOB, "Bob", Some("en"));
    sign_up(&h, &bob, "/start").await;
    h.tg.send_text(&bob, &format!("/gift {code}"));
    h.settle().await;
    assert!(
        h.screen(BOB).text().contains("does not work"),
        "{}",
        h.screen(BOB).text()
    );
    assert_eq!(days(db, BOB).await, None);
    assert_eq!(days(db, DAVE).await, Some(30));
    menu(&h, &alice).await;
    h.press(&alice, "gifts").await;
    assert!(
        !h.screen(ALICE).text().contains(&code),
        "redeemed: the code is gone"
    );
}

store::backend_tests!(
    a_referred_newcomers_first_stars_payment_rewards_once,
    a_stars_gift_is_paid_once_and_redeemed_once,
);
