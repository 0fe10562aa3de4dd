//! Promo codes on both backends: a code counts once per person however many calls race, limits
//! hold under concurrency, and a discounted payment records its code's use only when credited.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use domain::{Days, PaymentStatus, Percent, PlanId, PromoBenefit, PromoCode};
use store::testing::{card_payment, stars_payment, TestDb};
use store::{DaysRedemption, NewPromo, Settlement, StoreError};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-12-10 12:00 UTC);

fn code(s: &str) -> PromoCode {
    s.parse().unwrap()
}

fn percent(p: i64) -> PromoBenefit {
    PromoBenefit::Percent(Percent::new(p).unwrap())
}

async fn a_code_is_one_code_in_any_case_and_can_be_disabled(db: &TestDb) {
    let made = db.promo("Spring-25", percent(25), NOW).await;
    assert_eq!(made.code.as_str(), "SPRING-25");
    let again = db
        .store
        .create_promo(&NewPromo {
            code: code("spring-25"),
            benefit: PromoBenefit::Days(Days(3)),
            plan: None,
            max_uses: None,
            valid_until: None,
            created_at: NOW,
        })
        .await;
    assert!(
        matches!(again, Err(StoreError::PromoCodeTaken)),
        "{again:?}"
    );
    let found = db.store.promo_by_code(&code("SPRING-25")).await.unwrap();
    assert_eq!(found.as_ref(), Some(&made));
    assert!(db.store.disable_promo(&code("spring-25")).await.unwrap());
    assert!(!db.store.disable_promo(&code("spring-25")).await.unwrap());
    assert!(!db.store.disable_promo(&code("nope-1")).await.unwrap());
    let listed = db.store.list_promos().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].disabled);
}

/// The CI test of the issue: the same person's code entered twice at once (two tasks, two
/// transactions) credits its days once and counts once.
async fn a_free_days_code_used_twice_at_once_credits_once(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let promo = db.promo("TWICE", PromoBenefit::Days(Days(10)), NOW).await;
    let store = Arc::new(db.store.clone());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .redeem_days(promo.id, user.id, PlanId("promo".into()), Days(10), NOW)
                .await
                .unwrap()
        }));
    }
    let mut credited = 0;
    for task in tasks {
        match task.await.unwrap() {
            DaysRedemption::Credited(sub) => {
                credited += 1;
                assert_eq!(sub.ends_at, NOW + time::Duration::days(10));
            }
            DaysRedemption::AlreadyUsed => {}
            DaysRedemption::Unusable => panic!("the code was usable"),
        }
    }
    assert_eq!(credited, 1);
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(
        sub.ends_at,
        NOW + time::Duration::days(10),
        "ten days, once"
    );
    let promo = db.store.promo(promo.id).await.unwrap().unwrap();
    assert_eq!(promo.uses, 1);
    assert!(db.store.has_redeemed(promo.id, user.id).await.unwrap());
}

/// A code with one use left, entered by many people at once: one gets it.
async fn the_last_use_of_a_limited_code_goes_to_one_person(db: &TestDb) {
    let promo = db
        .store
        .create_promo(&NewPromo {
            code: code("LAST-ONE"),
            benefit: PromoBenefit::Days(Days(5)),
            plan: None,
            max_uses: Some(1),
            valid_until: None,
            created_at: NOW,
        })
        .await
        .unwrap();
    let mut users = Vec::new();
    for id in 1..=6 {
        users.push(db.user(id, NOW).await);
    }
    let store = Arc::new(db.store.clone());
    let tasks: Vec<_> = users
        .iter()
        .map(|u| {
            let (store, user) = (store.clone(), u.id);
            tokio::spawn(async move {
                store
                    .redeem_days(promo.id, user, PlanId("promo".into()), Days(5), NOW)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let credited = outcomes
        .iter()
        .filter(|o| matches!(o, DaysRedemption::Credited(_)))
        .count();
    assert_eq!(credited, 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, DaysRedemption::Credited(_) | DaysRedemption::Unusable)));
    let mut with_days = 0;
    for u in &users {
        with_days += usize::from(db.store.subscription(u.id).await.unwrap().is_some());
    }
    assert_eq!(
        with_days, 1,
        "a refused use left no days and no redemption behind"
    );
    assert_eq!(db.store.promo(promo.id).await.unwrap().unwrap().uses, 1);
}

async fn disabled_expired_and_discount_codes_give_no_days(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let expired = db
        .store
        .create_promo(&NewPromo {
            code: code("OLD"),
            benefit: PromoBenefit::Days(Days(5)),
            plan: None,
            max_uses: None,
            valid_until: Some(NOW - time::Duration::seconds(1)),
            created_at: NOW,
        })
        .await
        .unwrap();
    let off = db.promo("OFF", PromoBenefit::Days(Days(5)), NOW).await;
    db.store.disable_promo(&off.code).await.unwrap();
    let discount = db.promo("TEN", percent(10), NOW).await;
    for id in [expired.id, off.id, discount.id] {
        let got = db
            .store
            .redeem_days(id, user.id, PlanId("promo".into()), Days(5), NOW)
            .await
            .unwrap();
        assert_eq!(got, DaysRedemption::Unusable);
        assert!(!db.store.has_redeemed(id, user.id).await.unwrap());
    }
    assert_eq!(db.store.subscription(user.id).await.unwrap(), None);
}

/// A discounted Stars payment records the code's use with the credit; a second payment with the
/// same code (made before the first was credited) is credited, as paid, but counts nothing.
async fn a_discounted_stars_payment_counts_its_code_once(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let promo = db.promo("STARS20", percent(20), NOW).await;
    let first = stars_payment(user.id, "charge-1", NOW);
    let credited = db
        .store
        .record_paid_with_promo(&first, Some(promo.id))
        .await
        .unwrap();
    assert!(matches!(credited, Settlement::Credited(_)));
    let replay = db
        .store
        .record_paid_with_promo(&first, Some(promo.id))
        .await
        .unwrap();
    assert_eq!(replay, Settlement::AlreadySettled);
    let second = stars_payment(user.id, "charge-2", NOW);
    let also = db
        .store
        .record_paid_with_promo(&second, Some(promo.id))
        .await
        .unwrap();
    assert!(matches!(also, Settlement::Credited(_)));
    assert_eq!(db.store.promo(promo.id).await.unwrap().unwrap().uses, 1);
    let used = db.store.redemptions_of(user.id).await.unwrap();
    assert_eq!(used.len(), 1);
    let payments = db.store.list_payments(Some(user.id)).await.unwrap();
    assert_eq!(used[0].payment_id, Some(payments[0].id));
    assert!(payments.iter().all(|p| p.promo_code_id == Some(promo.id)));
}

/// A card payment opened with a code and canceled uses nothing up; one that succeeds records
/// the use once, however many settlements race.
async fn a_card_discount_is_used_only_when_the_payment_is_credited(db: &TestDb) {
    let user = db.user(1, NOW).await;
    let promo = db.promo("CARD15", percent(15), NOW).await;
    let since = NOW - time::Duration::minutes(10);
    let mut new = card_payment(user.id, None, NOW);
    new.amount = domain::Money::rub_kopecks(8_500);
    let token = domain::ReturnToken::generate();
    let opened = db
        .store
        .open_checkout_payment_with_promo(&new, Some(promo.id), &token, since)
        .await
        .unwrap();
    assert_eq!(opened.payment.promo_code_id, Some(promo.id));
    // Without the code the same offer is another payment, not this one.
    let plain = db
        .store
        .open_checkout_payment(&new, &domain::ReturnToken::generate(), since)
        .await
        .unwrap();
    assert!(!plain.reused);
    let again = db
        .store
        .open_checkout_payment_with_promo(&new, Some(promo.id), &token, since)
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.payment.id, opened.payment.id);
    db.store
        .settle_payment(opened.payment.id, PaymentStatus::Canceled, None, NOW)
        .await
        .unwrap();
    assert!(!db.store.has_redeemed(promo.id, user.id).await.unwrap());
    assert_eq!(db.store.promo(promo.id).await.unwrap().unwrap().uses, 0);

    let paid = db
        .store
        .open_checkout_payment_with_promo(&new, Some(promo.id), &token, since)
        .await;
    // The canceled one's token is taken: a fresh checkout brings a fresh token.
    assert!(paid.is_err());
    let paid = db
        .store
        .open_checkout_payment_with_promo(
            &new,
            Some(promo.id),
            &domain::ReturnToken::generate(),
            since,
        )
        .await
        .unwrap();
    let store = Arc::new(db.store.clone());
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            let id = paid.payment.id;
            tokio::spawn(async move {
                store
                    .settle_payment(id, PaymentStatus::Succeeded, Some(&format!("yk-{i}")), NOW)
                    .await
            })
        })
        .collect();
    let mut credited = 0;
    for task in tasks {
        if let Ok(Settlement::Credited(_)) = task.await.unwrap() {
            credited += 1;
        }
    }
    assert_eq!(credited, 1);
    assert!(db.store.has_redeemed(promo.id, user.id).await.unwrap());
    assert_eq!(db.store.promo(promo.id).await.unwrap().unwrap().uses, 1);
}

store::backend_tests!(
    a_code_is_one_code_in_any_case_and_can_be_disabled,
    a_free_days_code_used_twice_at_once_credits_once,
    the_last_use_of_a_limited_code_goes_to_one_person,
    disabled_expired_and_discount_codes_give_no_days,
    a_discounted_stars_payment_counts_its_code_once,
    a_card_discount_is_used_only_when_the_payment_is_credited,
);
