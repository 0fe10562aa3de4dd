//! Referrals and gifts paid by card, through the YooKassa emulator over HTTP, on SQLite and
//! PostgreSQL: a referred newcomer's first card payments (two at once, each notification
//! replayed and raced, the reconciler joining in) earn the referrer their days once; a plan
//! bought as a gift is marked so at YooKassa, credits nobody, raises its code once, and the
//! code is redeemed once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::sync::Arc;

use app::{Redeemed, ReferralJoin};
use card_shop::*;
use domain::{GiftCode, PaymentStatus};
use serde_json::json;
use store::testing::TestDb;
use time::OffsetDateTime;

async fn a_referred_newcomers_card_payments_reward_the_referrer_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let now = OffsetDateTime::now_utc();
    let (alice, _) = shop.customer(2001).await;
    let code = shop
        .app()
        .my_referrals(&alice, now)
        .await
        .unwrap()
        .unwrap()
        .code;
    let (bob, token) = shop.customer(2002).await;
    let joined = shop
        .app()
        .join_through_referral(&bob, &code, "ref-2002", "trial-2002", now)
        .await
        .unwrap();
    assert_eq!(joined, Some(ReferralJoin::Joined));

    // Two payments at once, each notified six times concurrently.
    let month = shop.checkout(&token, "month").await;
    let quarter = shop.checkout(&token, "quarter").await;
    shop.yk.succeed(&month).unwrap();
    shop.yk.succeed(&quarter).unwrap();
    let mut racing = Vec::new();
    for _ in 0..6 {
        for id in [&month, &quarter] {
            let shop = shop.clone();
            let id = id.clone();
            racing.push(tokio::spawn(async move { shop.notify(&id).await }));
        }
    }
    for r in racing {
        assert_eq!(r.await.unwrap(), 200);
    }
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    shop.cards.reconcile_once(later).await.unwrap();
    // And replayed later.
    assert_eq!(shop.notify(&month).await, 200);

    let reward = shop
        .subscription(&alice)
        .await
        .expect("the referrer is rewarded");
    assert_eq!(days_left(&reward), 7, "seven days once");
    let paid = shop.subscription(&bob).await.unwrap();
    assert_eq!(days_left(&paid), 120);
    let mine = shop.app().my_referrals(&alice, now).await.unwrap().unwrap();
    assert_eq!((mine.stats.joined, mine.stats.paid), (1, 1));
}

async fn a_card_gift_credits_nobody_and_its_code_works_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let mut gifts = shop.cards.subscribe_gifts();
    let mut paid = shop.cards.subscribe();
    let (carol, token) = shop.customer(2003).await;

    // The link the bot gives for a gift: the page says it is one and posts gift=1 back.
    let plan = shop.app().card_plans().into_iter().next().unwrap();
    let link = shop.app().card_gift_checkout_url(&token, &plan);
    assert!(link.ends_with("&gift=1"), "{link}");
    let path = link.split_once("://").unwrap().1.split_once('/').unwrap().1;
    let page = no_redirects()
        .get(shop.url(&format!("/{path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("as a gift") && body.contains("в подарок"),
        "{body}"
    );
    assert!(body.contains(r#"name="gift" value="1""#));

    let r = no_redirects()
        .post(shop.url(app::CARD_CHECKOUT_PATH))
        .form(&[
            ("t", token.as_str()),
            ("plan", plan.id.0.as_str()),
            ("gift", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let yk_id = location.rsplit('/').next().unwrap().to_owned();
    let ours = shop.ours(&yk_id).await;
    let sent = shop.yk.recorded();
    assert_eq!(
        sent[0].body["metadata"],
        json!({"payment_id": ours.id.to_string(), "gift": "1"}),
        "the gift is marked at YooKassa"
    );

    shop.yk.succeed(&yk_id).unwrap();
    let mut racing = Vec::new();
    for _ in 0..8 {
        let shop = shop.clone();
        let id = yk_id.clone();
        racing.push(tokio::spawn(async move { shop.notify(&id).await }));
    }
    for r in racing {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Succeeded);
    assert!(
        shop.subscription(&carol).await.is_none(),
        "the buyer gets no days"
    );
    assert!(paid.try_recv().is_err(), "no plan was credited");
    let event = gifts.try_recv().expect("the gift's code is raised");
    assert!(gifts.try_recv().is_err(), "once");
    assert_eq!((event.buyer, event.payment), (carol.id, ours.id));
    let code: GiftCode = event.code;

    // The return page says it was a gift.
    let return_url = sent[0].body["confirmation"]["return_url"].as_str().unwrap();
    let token_param = return_url.split_once("?t=").unwrap().1;
    let page = no_redirects()
        .get(shop.url(&format!("/pay/return?t={token_param}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Gift paid"), "{page}");

    // Two people race to redeem it: one gets the plan's days.
    let (dave, _) = shop.customer(2004).await;
    let (erin, _) = shop.customer(2005).await;
    let now = OffsetDateTime::now_utc();
    let (a, b) = tokio::join!(
        shop.app().redeem_gift(&dave, &code, now),
        shop.app().redeem_gift(&erin, &code, now)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Redeemed::Granted { .. }))
            .count(),
        1
    );
    assert!(outcomes.contains(&Redeemed::NotRedeemable));
    let granted: Vec<_> = [
        shop.subscription(&dave).await,
        shop.subscription(&erin).await,
    ]
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(granted.len(), 1);
    assert_eq!(days_left(&granted[0]), i64::from(plan.days.0));
    // In the buyer's export as theirs, redeemed, code gone.
    let export = shop.store().export_user(carol.id).await.unwrap().unwrap();
    assert_eq!(export.gifts_bought.len(), 1);
    assert!(export.gifts_bought[0].redeemed && export.gifts_bought[0].code.is_none());
}

store::backend_tests!(
    a_referred_newcomers_card_payments_reward_the_referrer_once,
    a_card_gift_credits_nobody_and_its_code_works_once,
);
