//! The bot under load: an update nobody can parse is skipped and counted while polling goes on;
//! a pre-checkout query is answered in time while someone floods the bot or Telegram says slow
//! down; one person's updates run in order while another's run beside them.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::{Duration, Instant};

use harness::Harness;
use serde_json::json;
use store::testing::TestDb;
use tg_emulator::{Call, Failure, TgUser};

/// Far below Telegram's 10 s, far above what a loaded 2-core machine needs.
const ANSWER_BOUND: Duration = Duration::from_secs(6);

/// Takes a person through /start and "I agree" to an invoice for a month; returns them and the
/// invoice's payload.
async fn with_an_invoice(h: &Harness, id: i64) -> (TgUser, String) {
    let person = h.tg.user(id, "Bea", Some("en"));
    h.tg.send_text(&person, "/start");
    h.next("sendMessage", id).await;
    h.press(&person, "agree:en").await;
    h.press(&person, "buy").await;
    h.press(&person, "plan:month").await;
    let invoice = h.next("sendInvoice", id).await;
    (person, invoice.params.str("payload").unwrap())
}

fn replies_to(calls: &[Call], chat: i64) -> Vec<&Call> {
    calls
        .iter()
        .filter(|c| c.method == "sendMessage" && c.params.i64("chat_id") == Some(chat) && !c.failed)
        .collect()
}

async fn an_unreadable_update_is_skipped_and_counted_and_polling_goes_on(db: &TestDb) {
    let mut h = Harness::start(db).await;
    let ann = h.tg.user(5001, "Ann", Some("en"));
    let ben = h.tg.user(5002, "Ben", Some("en"));
    let cal = h.tg.user(5003, "Cal", Some("en"));
    h.stop().await;
    // One batch: good, unparseable (teloxide-core fails the whole batch on it), a known field
    // of the wrong shape, good.
    h.tg.send_text(&ann, "/start");
    h.tg.inject_unparseable(&cal);
    h.tg.inject(json!({ "message": { "chat": "not a chat" } }));
    h.tg.send_text(&ben, "/start");
    h.restart().await;
    h.settle().await;
    // Ann and Ben are handled side by side: their replies may come in either order.
    let calls = h.tg.calls();
    assert_eq!(replies_to(&calls, ann.id).len(), 1);
    assert_eq!(replies_to(&calls, ben.id).len(), 1);
    assert_eq!(h.metrics().unreadable_updates(), 2);
    assert!(h.tg.chat(cal.id).is_empty(), "nothing was made of it");

    // Polling goes on.
    h.tg.send_text(&cal, "/start");
    h.next("sendMessage", cal.id).await;
    assert_eq!(h.metrics().unreadable_updates(), 2);
}

async fn a_pre_checkout_query_is_answered_while_someone_floods_the_bot(db: &TestDb) {
    let mut h = Harness::start(db).await;
    let (bea, payload) = with_an_invoice(&h, 5101).await;
    let flooder = h.tg.user(5102, "Flo", Some("en"));
    h.stop().await;
    for i in 0..200 {
        h.tg.send_text(&flooder, &format!("spam {i}"));
    }
    h.tg.pre_checkout(&bea, "XTR", 100, &payload);
    let started = Instant::now();
    h.restart().await;
    let answer =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert!(
        answer.at - started < ANSWER_BOUND,
        "answered after {:?}",
        answer.at - started
    );
    assert_eq!(
        answer.params.bool("ok"),
        Some(true),
        "the checks still pass"
    );
    let calls = h.tg.calls();
    let before = replies_to(&calls, flooder.id)
        .iter()
        .filter(|c| c.at < answer.at)
        .count();
    assert!(
        before < 50,
        "the answer came before the flooder's 50th reply, not after ({before} before it)"
    );
    // The flood itself is handled too (up to the per-person queue bound).
    h.settle().await;
    let replies = replies_to(&h.tg.calls(), flooder.id).len();
    assert!(replies >= 50, "{replies} replies to the flood");
    assert_eq!(replies as u64 + h.metrics().shed_updates(), 200);
}

async fn a_pre_checkout_query_is_answered_while_telegram_says_slow_down(db: &TestDb) {
    let h = Harness::start(db).await;
    let (bea, payload) = with_an_invoice(&h, 5201).await;
    let flooder = h.tg.user(5202, "Flo", Some("en"));
    h.tg.fail_next(Some("sendMessage"), 10_000, Failure::RetryAfter(3));
    for i in 0..20 {
        h.tg.send_text(&flooder, &format!("spam {i}"));
    }
    h.tg.wait_for(|c| c.method == "sendMessage" && c.failed)
        .await;
    let asked = Instant::now();
    h.tg.pre_checkout(&bea, "XTR", 100, &payload);
    let answer =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert!(!answer.failed);
    assert_eq!(answer.params.bool("ok"), Some(true));
    assert!(
        answer.at - asked < ANSWER_BOUND,
        "answered after {:?}",
        answer.at - asked
    );
    assert!(
        replies_to(&h.tg.calls(), flooder.id).is_empty(),
        "Telegram was still refusing messages meanwhile"
    );
}

async fn a_pre_checkout_query_for_a_blocked_person_is_refused_on_the_fast_path(db: &TestDb) {
    let h = Harness::start(db).await;
    let (bea, payload) = with_an_invoice(&h, 5301).await;
    let user = db
        .store
        .user_by_telegram(domain::TelegramId(bea.id))
        .await
        .unwrap()
        .unwrap();
    db.store.set_blocked(user.id, true).await.unwrap();
    h.tg.pre_checkout(&bea, "XTR", 100, &payload);
    let answer =
        h.tg.wait_for(|c| c.method == "answerPreCheckoutQuery")
            .await;
    assert_eq!(answer.params.bool("ok"), Some(false));
    assert!(answer.params.str("error_message").is_some());
}

async fn one_persons_updates_run_in_order_while_anothers_run_beside_them(db: &TestDb) {
    let mut h = Harness::start(db).await;
    let ada_en = h.tg.user(5401, "Ada", Some("en"));
    let ada_ru = TgUser {
        language_code: Some("ru".into()),
        ..ada_en.clone()
    };
    let bob = h.tg.user(5402, "Bob", Some("en"));
    h.stop().await;
    // Telegram is stuck on Ada's chat: her first reply hangs.
    h.tg.hold_chat(ada_en.id);
    let languages = ["en", "ru", "en", "ru", "en"];
    for language in languages {
        let ada = if language == "en" { &ada_en } else { &ada_ru };
        h.tg.send_text(ada, "/start");
    }
    h.tg.send_text(&bob, "/start");
    h.restart().await;
    // Bob's update, behind all of Ada's in the same batch, is handled while hers hangs.
    h.next("sendMessage", bob.id).await;
    assert!(
        replies_to(&h.tg.calls(), ada_en.id).is_empty(),
        "Ada's first reply is still held"
    );
    let released = Instant::now();
    h.tg.release_chat(ada_en.id);
    h.settle().await;
    let calls = h.tg.calls();
    let replies = replies_to(&calls, ada_en.id);
    let seen: Vec<&str> = replies
        .iter()
        .map(|c| {
            if c.params.str("text").unwrap().contains("политик") {
                "ru"
            } else {
                "en"
            }
        })
        .collect();
    assert_eq!(seen, languages, "her updates were handled in order");
    assert!(
        replies[1..].iter().all(|c| c.at >= released),
        "one at a time: the next waited for the held one"
    );
}

async fn a_payment_is_confirmed_to_telegram_only_once_handled(db: &TestDb) {
    let h = Harness::start(db).await;
    // Sam never signed up, so his payment is refunded; Telegram refuses the refund four times
    // (a second apart) before taking it.
    let sam = h.tg.user(5501, "Sam", Some("en"));
    let oz = h.tg.user(5502, "Oz", Some("en"));
    let pia = h.tg.user(5503, "Pia", Some("en"));
    h.tg.fail_next(Some("refundStarPayment"), 4, Failure::RetryAfter(1));
    let paid =
        h.tg.successful_payment(&sam, "XTR", 100, "anything", "stxHOLD-1");
    let payment = h.tg.inject(paid);
    // Two polls later, everyone after the payment is handled...
    h.tg.send_text(&oz, "/start");
    h.next("sendMessage", oz.id).await;
    h.tg.send_text(&pia, "/start");
    h.next("sendMessage", pia.id).await;
    // ...but the payment, still being refunded, is not confirmed.
    assert!(h.tg.is_unconfirmed(payment));
    h.tg.wait_for(|c| c.method == "refundStarPayment" && !c.failed)
        .await;
    for _ in 0..1000 {
        if !h.tg.is_unconfirmed(payment) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the payment was not confirmed once refunded");
}

store::backend_tests!(
    a_payment_is_confirmed_to_telegram_only_once_handled,
    an_unreadable_update_is_skipped_and_counted_and_polling_goes_on,
    a_pre_checkout_query_is_answered_while_someone_floods_the_bot,
    a_pre_checkout_query_is_answered_while_telegram_says_slow_down,
    a_pre_checkout_query_for_a_blocked_person_is_refused_on_the_fast_path,
    one_persons_updates_run_in_order_while_anothers_run_beside_them,
);
