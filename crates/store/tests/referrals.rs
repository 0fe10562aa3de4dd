//! Referrals on both backends: a newcomer's first payment rewards their referrer (and them, if
//! offered) exactly once, whatever is replayed or raced; self-referral, made-up codes and
//! people coming back are refused; erasure of either side removes the link.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Days, PaymentStatus, ReferralCode, UserId};
use store::testing::{card_payment, stars_payment, TestDb};
use store::{ReferralJoin, ReferralOffer, ReferralStats, Settlement};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-04-01 12:00 UTC);

const OFFER: ReferralOffer = ReferralOffer {
    reward_days: Days(7),
    welcome_days: Days(3),
};

async fn join(db: &TestDb, newcomer: UserId, code: &ReferralCode, key: &str) -> ReferralJoin {
    db.store
        .join_through_referral(
            newcomer,
            code,
            &format!("ref-{key}"),
            &format!("trial-{key}"),
            OFFER,
            NOW,
        )
        .await
        .unwrap()
}

async fn days_left(db: &TestDb, user: UserId) -> Option<i64> {
    db.store
        .subscription(user)
        .await
        .unwrap()
        .map(|s| (s.ends_at - NOW).whole_days())
}

async fn a_newcomers_first_payment_rewards_both_sides_once(db: &TestDb) {
    let referrer = db.user(1, NOW).await;
    let code = db.store.referral_code(referrer.id, NOW).await.unwrap();
    assert_eq!(
        db.store.referral_code(referrer.id, NOW).await.unwrap(),
        code
    );
    let newcomer = db.user(2, NOW).await;
    assert_eq!(
        join(db, newcomer.id, &code, "2").await,
        ReferralJoin::Joined
    );
    assert_eq!(
        db.store.referral_stats(referrer.id).await.unwrap(),
        ReferralStats { joined: 1, paid: 0 }
    );
    assert_eq!(days_left(db, referrer.id).await, None);

    db.paid(&card_payment(newcomer.id, None, NOW)).await;
    assert_eq!(days_left(db, referrer.id).await, Some(7));
    assert_eq!(days_left(db, newcomer.id).await, Some(33));
    assert_eq!(
        db.store.referral_stats(referrer.id).await.unwrap(),
        ReferralStats { joined: 1, paid: 1 }
    );

    // Later payments reward nobody.
    db.paid(&card_payment(newcomer.id, None, NOW)).await;
    db.store
        .record_paid(&stars_payment(newcomer.id, "later", NOW))
        .await
        .unwrap();
    assert_eq!(days_left(db, referrer.id).await, Some(7));
    assert_eq!(days_left(db, newcomer.id).await, Some(93));
}

async fn concurrent_and_replayed_first_payments_reward_once(db: &TestDb) {
    let referrer = db.user(1, NOW).await;
    let code = db.store.referral_code(referrer.id, NOW).await.unwrap();
    let newcomer = db.user(2, NOW).await;
    assert_eq!(
        join(db, newcomer.id, &code, "2").await,
        ReferralJoin::Joined
    );
    let mut tasks = Vec::new();
    for i in 0..4 {
        let pending = db.pending(&card_payment(newcomer.id, None, NOW)).await;
        for _ in 0..2 {
            // The same card payment settled twice at once (a replayed notification).
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .settle_payment(pending.id, PaymentStatus::Succeeded, None, NOW)
                    .await
                    .unwrap()
            }));
        }
        for _ in 0..2 {
            // The same Stars charge delivered twice at once.
            let store = db.store.clone();
            let stars = stars_payment(newcomer.id, &format!("charge-{i}"), NOW);
            tasks.push(tokio::spawn(async move {
                store.record_paid(&stars).await.unwrap()
            }));
        }
    }
    let mut credited = 0;
    for task in tasks {
        match task.await.unwrap() {
            Settlement::Credited(_) => credited += 1,
            Settlement::AlreadySettled => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(credited, 8, "four card payments and four charges");
    assert_eq!(days_left(db, referrer.id).await, Some(7));
    assert_eq!(days_left(db, newcomer.id).await, Some(8 * 30 + 3));
    assert_eq!(
        db.store.referral_stats(referrer.id).await.unwrap(),
        ReferralStats { joined: 1, paid: 1 }
    );
}

async fn self_referral_made_up_codes_and_people_coming_back_are_refused(db: &TestDb) {
    let referrer = db.user(1, NOW).await;
    let code = db.store.referral_code(referrer.id, NOW).await.unwrap();
    assert_eq!(
        join(db, referrer.id, &code, "1").await,
        ReferralJoin::SelfReferral
    );
    let newcomer = db.user(2, NOW).await;
    assert_eq!(
        join(db, newcomer.id, &ReferralCode::generate(), "2").await,
        ReferralJoin::UnknownCode
    );
    // Someone who took the trial under an earlier account is no newcomer.
    let returning = db.user(3, NOW).await;
    db.store
        .claim_trial("trial-3", returning.id, Days(3), NOW)
        .await
        .unwrap();
    assert_eq!(
        join(db, returning.id, &code, "3").await,
        ReferralJoin::NotNewcomer
    );
    // Someone referred before, erased and back under a new account, is no newcomer either.
    assert_eq!(
        join(db, newcomer.id, &code, "2").await,
        ReferralJoin::Joined
    );
    db.store.erase_user(newcomer.id).await.unwrap();
    let back = db.user(2, NOW).await;
    assert_eq!(
        join(db, back.id, &code, "2").await,
        ReferralJoin::NotNewcomer
    );
    db.paid(&card_payment(back.id, None, NOW)).await;
    assert_eq!(days_left(db, referrer.id).await, None);
    // Trials are not payments.
    let other = db.user(4, NOW).await;
    assert_eq!(join(db, other.id, &code, "4").await, ReferralJoin::Joined);
    db.store
        .claim_trial("trial-4", other.id, Days(3), NOW)
        .await
        .unwrap();
    assert_eq!(days_left(db, referrer.id).await, None);
    assert_eq!(
        db.store.referral_stats(referrer.id).await.unwrap(),
        ReferralStats { joined: 1, paid: 0 }
    );
}

async fn erasure_of_either_side_removes_the_link(db: &TestDb) {
    let referrer = db.user(1, NOW).await;
    let code = db.store.referral_code(referrer.id, NOW).await.unwrap();
    let a = db.user(2, NOW).await;
    let b = db.user(3, NOW).await;
    assert_eq!(join(db, a.id, &code, "2").await, ReferralJoin::Joined);
    assert_eq!(join(db, b.id, &code, "3").await, ReferralJoin::Joined);
    let export = db.store.export_user(a.id).await.unwrap().unwrap();
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("joined_at"), "{json}");
    assert!(
        !json.contains(code.as_str()),
        "the newcomer never sees whose link it was"
    );
    let export = db.store.export_user(referrer.id).await.unwrap().unwrap();
    assert_eq!(export.referrals.code.as_deref(), Some(code.as_str()));
    assert_eq!(export.referrals.stats.joined, 2);

    db.store.erase_user(a.id).await.unwrap();
    assert_eq!(
        db.store.referral_stats(referrer.id).await.unwrap(),
        ReferralStats { joined: 1, paid: 0 }
    );
    db.store.erase_user(referrer.id).await.unwrap();
    // The newcomer pays: nobody to reward, nothing fails, no reward for them either.
    db.paid(&card_payment(b.id, None, NOW)).await;
    assert_eq!(days_left(db, b.id).await, Some(30));
    let export = db.store.export_user(b.id).await.unwrap().unwrap();
    assert!(export.referrals.referred.is_none());
    // The code died with its owner.
    let c = db.user(4, NOW).await;
    assert_eq!(join(db, c.id, &code, "4").await, ReferralJoin::UnknownCode);
}

store::backend_tests!(
    a_newcomers_first_payment_rewards_both_sides_once,
    concurrent_and_replayed_first_payments_reward_once,
    self_referral_made_up_codes_and_people_coming_back_are_refused,
    erasure_of_either_side_removes_the_link,
);
