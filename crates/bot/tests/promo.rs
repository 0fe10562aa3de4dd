//! Promo codes in the bot, against the Telegram emulator over HTTP, on SQLite and PostgreSQL:
//! `/promo CODE` with a free-days code extends at once and once only (also when sent twice at
//! once); a discount code gives a Stars invoice at the discounted price that pre-checkout
//! accepts and is credited as offered, counting the code once; the button asks for a code; the
//! admins' `/stats` shows the uses.
#![allow(clippy::unwrap_used)]

mod harness;

use app::NewPromo;
use domain::{Days, Percent, PromoBenefit, TelegramId};
use harness::{count, Harness, ADMIN};
use store::testing::TestDb;
use time::OffsetDateTime;

const BEA: i64 = 1_000_222_333;

fn promo(code: &str, benefit: PromoBenefit) -> NewPromo {
    NewPromo {
        code: code.parse().unwrap(),
        benefit,
        plan: None,
        max_uses: None,
        valid_until: None,
        created_at: OffsetDateTime::now_utc(),
    }
}

async fn promo_codes_through_the_bot(db: &TestDb) {
    let h = Harness::start(db).await;
    let tg = &h.tg;
    let commands = tg.calls();
    let registered = commands
        .iter()
        .find(|c| c.method == "setMyCommands")
        .unwrap();
    let listed = registered.params.json("commands").unwrap();
    assert!(
        listed.to_string().contains("\"promo\"") && listed.to_string().contains("\"gift\""),
        "/promo and /gift are in the bot's menu: {listed}"
    );
    // The Russian menu is registered right after the default one: wait for it.
    let russian = tg
        .wait_for(|c| {
            c.method == "setMyCommands" && c.params.str("language_code").as_deref() == Some("ru")
        })
        .await;
    let listed = russian.params.json("commands").unwrap().to_string();
    assert!(listed.contains("Ввести промокод"), "{listed}");
    h.app
        .add_promo(promo("GIFT7", PromoBenefit::Days(Days(7))))
        .await
        .unwrap();
    let mut spring = promo("SPRING20", PromoBenefit::Percent(Percent::new(20).unwrap()));
    spring.plan = Some(domain::PlanId("month".into()));
    h.app.add_promo(spring).await.unwrap();

    let bea = tg.user(BEA, "Bea", Some("en"));
    tg.register(&bea);
    tg.send_text(&bea, "/start");
    h.next("sendMessage", BEA).await;
    h.press(&bea, "agree:en").await;
    h.next("editMessageText", BEA).await;
    let user = db
        .store
        .user_by_telegram(TelegramId(BEA))
        .await
        .unwrap()
        .unwrap();

    // A free-days code, typed in lower case and sent twice at once: seven days, once.
    tg.send_text(&bea, "/promo gift7");
    tg.send_text(&bea, "/promo GIFT7");
    h.next("sendMessage", BEA).await;
    h.next("sendMessage", BEA).await;
    h.settle().await;
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    let days = (sub.ends_at - sub.activated_at).whole_days();
    assert_eq!(days, 7, "seven days, credited once");
    let said: Vec<String> = tg.chat(BEA).iter().map(|m| m.text().to_owned()).collect();
    assert_eq!(
        said.iter()
            .filter(|t| t.contains("Promo code accepted: +7 days"))
            .count(),
        1,
        "{said:?}"
    );
    assert!(said
        .iter()
        .any(|t| t.contains("used this promo code already")));

    // The button asks for a code; an unknown one is refused by name.
    h.press(&bea, "menu").await;
    h.press(&bea, "buy").await;
    h.press(&bea, "promo").await;
    assert!(h.screen(BEA).text().contains("Send your promo code"));
    tg.send_text(&bea, "nope-1");
    h.next("sendMessage", BEA).await;
    assert!(h.screen(BEA).text().contains("no such promo code"));

    // A discount code: the month at 80 stars instead of 100, the code in the invoice.
    tg.send_text(&bea, "/promo Spring20");
    h.next("sendMessage", BEA).await;
    let offers = h.screen(BEA);
    assert!(offers.text().contains("20% off"), "{}", offers.text());
    assert!(
        offers
            .buttons()
            .contains(&"pplan:SPRING20:month".to_owned()),
        "{:?}",
        offers.buttons()
    );
    assert!(
        !offers.buttons().iter().any(|b| b.ends_with(":quarter")),
        "the code is for the month only"
    );
    h.press(&bea, "pplan:SPRING20:month").await;
    let invoice = h.next("sendInvoice", BEA).await;
    assert_eq!(invoice.params.json("prices").unwrap()[0]["amount"], 80);
    let payload = invoice.params.str("payload").unwrap();
    assert_eq!(payload, "starsp:SPRING20:month:30:80");
    // An invoice made is nothing used: only the free-days code is recorded so far.
    assert_eq!(count(db, "promo_redemptions").await, 1);
    let unpaid = h.app.promos().await.unwrap();
    assert!(unpaid
        .iter()
        .any(|p| p.code.as_str() == "SPRING20" && p.uses == 0));

    // The discounted price without the code, or the code at another price, is refused.
    tg.pre_checkout(&bea, "XTR", 80, "stars:month:30:80");
    let refused = tg.wait_for(|c| c.method == "answerPreCheckoutQuery").await;
    assert_eq!(refused.params.bool("ok"), Some(false));
    tg.pre_checkout(&bea, "XTR", 50, "starsp:SPRING20:month:30:50");
    let refused = tg.wait_for(|c| c.method == "answerPreCheckoutQuery").await;
    assert_eq!(refused.params.bool("ok"), Some(false));
    tg.pre_checkout(&bea, "XTR", 80, &payload);
    let accepted = tg.wait_for(|c| c.method == "answerPreCheckoutQuery").await;
    assert_eq!(accepted.params.bool("ok"), Some(true));

    // Paid (and the payment delivered twice): thirty more days, the code counted once.
    let paid = tg.successful_payment(&bea, "XTR", 80, &payload, "stxPROMO-1");
    tg.inject(paid.clone());
    h.next("sendMessage", BEA).await;
    assert!(h.screen(BEA).text().contains("Payment received"));
    tg.inject(paid);
    h.settle().await;
    let after = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(after.ends_at - sub.ends_at, time::Duration::days(30));
    let payments = db.store.list_payments(Some(user.id)).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].amount, domain::Money::stars(80));
    let promos = h.app.promos().await.unwrap();
    let spring = promos
        .iter()
        .find(|p| p.code.as_str() == "SPRING20")
        .unwrap();
    assert_eq!(spring.uses, 1);
    assert_eq!(payments[0].promo_code_id, Some(spring.id));

    // Used now: a second invoice at that price is refused at pre-checkout, with why.
    tg.pre_checkout(&bea, "XTR", 80, &payload);
    let again = tg.wait_for(|c| c.method == "answerPreCheckoutQuery").await;
    assert_eq!(again.params.bool("ok"), Some(false));
    assert!(again
        .params
        .str("error_message")
        .unwrap()
        .contains("promo code"));
    tg.send_text(&bea, "/promo SPRING20");
    h.next("sendMessage", BEA).await;
    assert!(h
        .screen(BEA)
        .text()
        .contains("used this promo code already"));

    // The admins see the uses.
    let admin = tg.user(ADMIN, "Admin", Some("en"));
    tg.send_text(&admin, "/stats");
    h.next("sendMessage", ADMIN).await;
    let stats = h.screen(ADMIN);
    assert!(stats.text().contains("GIFT7: 1"), "{}", stats.text());
    assert!(stats.text().contains("SPRING20: 1"), "{}", stats.text());
}

store::backend_tests!(promo_codes_through_the_bot);
