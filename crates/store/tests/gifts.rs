//! Gifts on both backends: buying one credits nobody, paying it makes its code redeemable,
//! and the code gives the plan's days exactly once, to whoever redeems it first, however many
//! try at once.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{GiftCode, PaymentStatus, ReturnToken, UserId};
use store::testing::{card_payment, stars_payment, TestDb};
use store::{GiftRedemption, Settlement};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

async fn days_left(db: &TestDb, user: UserId) -> Option<i64> {
    db.store
        .subscription(user)
        .await
        .unwrap()
        .map(|s| (s.ends_at - NOW).whole_days())
}

fn gift_paid(settlement: Settlement) -> GiftCode {
    match settlement {
        Settlement::GiftPaid(code) => code,
        other => panic!("not a paid gift: {other:?}"),
    }
}

async fn a_stars_gift_credits_nobody_and_is_redeemed_once(db: &TestDb) {
    let buyer = db.user(1, NOW).await;
    let code = GiftCode::generate();
    let payment = stars_payment(buyer.id, "gift-charge", NOW);
    let paid = gift_paid(db.store.record_paid_gift(&payment, &code).await.unwrap());
    assert_eq!(paid, code);
    // Telegram delivers it again: nothing more, and still no days for the buyer.
    let again = db
        .store
        .record_paid_gift(&payment, &GiftCode::generate())
        .await;
    assert_eq!(again.unwrap(), Settlement::AlreadySettled);
    assert_eq!(days_left(db, buyer.id).await, None);

    let friend = db.user(2, NOW).await;
    let redeemed = db.store.redeem_gift(&code, friend.id, NOW).await.unwrap();
    assert!(matches!(redeemed, GiftRedemption::Redeemed { days, .. } if days.0 == 30));
    assert_eq!(days_left(db, friend.id).await, Some(30));
    let stranger = db.user(3, NOW).await;
    assert_eq!(
        db.store.redeem_gift(&code, stranger.id, NOW).await.unwrap(),
        GiftRedemption::NotRedeemable
    );
    assert_eq!(
        db.store.redeem_gift(&code, friend.id, NOW).await.unwrap(),
        GiftRedemption::NotRedeemable
    );
    assert_eq!(days_left(db, friend.id).await, Some(30));
    assert_eq!(days_left(db, stranger.id).await, None);

    // The buyer's export has the gift (its code gone once redeemed); the friend's the
    // redemption, without the buyer.
    let bought = db.store.export_user(buyer.id).await.unwrap().unwrap();
    assert_eq!(bought.gifts_bought.len(), 1);
    assert!(bought.gifts_bought[0].redeemed);
    assert_eq!(bought.gifts_bought[0].code, None);
    let got = db.store.export_user(friend.id).await.unwrap().unwrap();
    assert_eq!(got.gifts_redeemed.len(), 1);
    assert_eq!(got.gifts_redeemed[0].days, 30);
}

async fn concurrent_redemptions_grant_once(db: &TestDb) {
    let buyer = db.user(1, NOW).await;
    let code = GiftCode::generate();
    gift_paid(
        db.store
            .record_paid_gift(&stars_payment(buyer.id, "c", NOW), &code)
            .await
            .unwrap(),
    );
    let mut people = Vec::new();
    for i in 0..4 {
        people.push(db.user(10 + i, NOW).await.id);
    }
    let mut tasks = Vec::new();
    for &person in people.iter().chain(people.iter()) {
        let store = db.store.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            store.redeem_gift(&code, person, NOW).await.unwrap()
        }));
    }
    let mut redeemed = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), GiftRedemption::Redeemed { .. }) {
            redeemed += 1;
        }
    }
    assert_eq!(redeemed, 1);
    let mut granted = 0;
    for person in people {
        if let Some(days) = days_left(db, person).await {
            assert_eq!(days, 30);
            granted += 1;
        }
    }
    assert_eq!(granted, 1);
}

async fn a_card_gift_is_redeemable_once_paid_and_never_reused_for_a_plain_checkout(db: &TestDb) {
    let buyer = db.user(1, NOW).await;
    let code = GiftCode::generate();
    let new = card_payment(buyer.id, None, NOW);
    let gift = db
        .store
        .open_gift_checkout_payment(
            &new,
            &ReturnToken::generate(),
            &code,
            NOW - Duration::minutes(10),
        )
        .await
        .unwrap();
    assert!(!gift.reused);
    // A double click on the gift reuses it; a plain checkout of the same plan does not.
    let again = db
        .store
        .open_gift_checkout_payment(
            &new,
            &ReturnToken::generate(),
            &GiftCode::generate(),
            NOW - Duration::minutes(10),
        )
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.payment.id, gift.payment.id);
    let plain = db
        .store
        .open_checkout_payment(&new, &ReturnToken::generate(), NOW - Duration::minutes(10))
        .await
        .unwrap();
    assert_ne!(plain.payment.id, gift.payment.id);
    assert_eq!(
        db.store.gift_of_payment(plain.payment.id).await.unwrap(),
        None
    );

    let friend = db.user(2, NOW).await;
    assert_eq!(
        db.store.redeem_gift(&code, friend.id, NOW).await.unwrap(),
        GiftRedemption::NotRedeemable,
        "not paid yet"
    );
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = db.store.clone();
        let id = gift.payment.id;
        tasks.push(tokio::spawn(async move {
            store
                .settle_payment(id, PaymentStatus::Succeeded, None, NOW)
                .await
                .unwrap()
        }));
    }
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            Settlement::GiftPaid(c) => {
                assert_eq!(c, code);
                paid += 1;
            }
            Settlement::AlreadySettled => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(
        days_left(db, buyer.id).await,
        None,
        "the buyer gets no days"
    );
    assert_eq!(
        db.store.gift_of_payment(gift.payment.id).await.unwrap(),
        Some(Some(code.clone()))
    );
    assert!(matches!(
        db.store.redeem_gift(&code, friend.id, NOW).await.unwrap(),
        GiftRedemption::Redeemed { .. }
    ));
    assert_eq!(days_left(db, friend.id).await, Some(30));
}

async fn erasure_and_retention_of_gifts(db: &TestDb) {
    let buyer = db.user(1, NOW).await;
    let kept = GiftCode::generate();
    let old = GiftCode::generate();
    gift_paid(
        db.store
            .record_paid_gift(&stars_payment(buyer.id, "a", NOW), &kept)
            .await
            .unwrap(),
    );
    let long_ago = NOW - Duration::days(400);
    gift_paid(
        db.store
            .record_paid_gift(&stars_payment(buyer.id, "b", long_ago), &old)
            .await
            .unwrap(),
    );
    let export = db.store.export_user(buyer.id).await.unwrap().unwrap();
    assert_eq!(export.gifts_bought.len(), 2);
    assert_eq!(export.gifts_bought[0].code.as_deref(), Some(kept.as_str()));

    // Retention clears codes never redeemed within the year.
    assert_eq!(
        db.store
            .expire_gift_codes(NOW - Duration::days(365))
            .await
            .unwrap(),
        1
    );
    let friend = db.user(2, NOW).await;
    assert_eq!(
        db.store.redeem_gift(&old, friend.id, NOW).await.unwrap(),
        GiftRedemption::NotRedeemable
    );
    // The buyer's erasure leaves their paid, unredeemed gift redeemable.
    db.store.erase_user(buyer.id).await.unwrap();
    assert!(matches!(
        db.store.redeem_gift(&kept, friend.id, NOW).await.unwrap(),
        GiftRedemption::Redeemed { .. }
    ));
    // The recipient's erasure unlinks the redemption.
    db.store.erase_user(friend.id).await.unwrap();
    let rows = store::testing::every_stored_value(db).await;
    assert!(!rows
        .iter()
        .any(|(place, v)| place.starts_with("gifts.redeemed_by") && v == &friend.id.0.to_string()));
}

store::backend_tests!(
    a_stars_gift_credits_nobody_and_is_redeemed_once,
    concurrent_redemptions_grant_once,
    a_card_gift_is_redeemable_once_paid_and_never_reused_for_a_plain_checkout,
    erasure_and_retention_of_gifts,
);
