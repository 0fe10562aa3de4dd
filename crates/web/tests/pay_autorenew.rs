//! Card auto-renewal against the YooKassa emulator over HTTP, on SQLite and PostgreSQL, with a
//! simulated clock: opt-in only, the saved method charged once a day before the end (even
//! with two renewal jobs racing), declines retried twice then stopped with the person told,
//! and the method's id gone after switching off or erasure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use app::{
    NewPromo, RenewalNoticeKind, RenewalReport, AUTO_RENEWAL_LEAD, AUTO_RENEWAL_RETRY_AFTER,
};
use card_shop::*;
use domain::{Percent, PromoBenefit, User};
use store::testing::TestDb;
use time::{Duration, OffsetDateTime};

/// A customer who paid a month by card with "renew automatically" ticked: them and the id of
/// the method YooKassa saved.
async fn auto_renewing(shop: &Shop, telegram_id: i64) -> (User, String) {
    let (user, token) = shop.customer(telegram_id).await;
    let yk_id = shop.checkout_auto_renew(&token, "month").await;
    let request = shop.yk.recorded().last().unwrap().body.clone();
    assert_eq!(request["save_payment_method"], true, "{request}");
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    let method = shop.yk.payment(&yk_id).unwrap()["payment_method"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(shop.yk.saved_methods(), vec![method.clone()]);
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_some());
    (user, method)
}

async fn ends_at(shop: &Shop, user: &User) -> OffsetDateTime {
    shop.subscription(user).await.unwrap().ends_at
}

async fn renew(shop: &Shop, at: OffsetDateTime) -> RenewalReport {
    shop.cards.renew_due(at).await.unwrap()
}

async fn auto_renewal_is_opt_in(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, token) = shop.customer(2001).await;
    let (status, page) = shop.view_checkout(&token, "month").await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"auto_renew\""), "the page offers it");
    assert!(!page.contains("checked"), "never ticked by default");
    let yk_id = shop.checkout(&token, "month").await;
    let request = shop.yk.recorded().last().unwrap().body.clone();
    assert!(request.get("save_payment_method").is_none(), "{request}");
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert!(shop.yk.saved_methods().is_empty());
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_none());
    let end = ends_at(&shop, &user).await;
    assert_eq!(
        renew(&shop, end - Duration::hours(1)).await,
        RenewalReport::default()
    );
    assert!(shop.yk.autopayments().is_empty());
}

async fn the_saved_method_is_charged_once_a_day_before_the_end(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2002).await;
    let end = ends_at(&shop, &user).await;

    // Too early: nothing.
    assert_eq!(
        renew(&shop, end - AUTO_RENEWAL_LEAD - Duration::minutes(1)).await,
        RenewalReport::default()
    );
    assert!(shop.yk.autopayments().is_empty());

    // A day before the end, two jobs (two processes' leaders in a handover, say) race.
    let at = end - AUTO_RENEWAL_LEAD + Duration::minutes(1);
    let other = shop.cards.clone();
    let (a, b) = tokio::join!(shop.cards.renew_due(at), other.renew_due(at));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.renewed + b.renewed, 1, "{a:?} {b:?}");
    let charges = shop.yk.autopayments();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].body["payment_method_id"], method.as_str());
    assert!(charges[0].body.get("confirmation").is_none());
    assert_eq!(charges[0].body["amount"]["value"], "199.00");
    assert_eq!(days_left(&shop.subscription(&user).await.unwrap()), 60);

    // Later rounds in the same period, and YooKassa's notification of the charge: nothing twice.
    let yk_id = shop.yk.payment_ids().into_iter().find(|id| {
        shop.yk.payment(id).unwrap()["description"]
            .as_str()
            .is_some_and(|d| d.contains("auto-renewal"))
    });
    assert_eq!(shop.notify(&yk_id.unwrap()).await, 200);
    for later in [at, at + Duration::hours(1), at + Duration::hours(20)] {
        assert_eq!(renew(&shop, later).await, RenewalReport::default());
    }
    assert_eq!(shop.yk.autopayments().len(), 1);
    assert_eq!(days_left(&shop.subscription(&user).await.unwrap()), 60);

    // The next period renews again, under its own idempotence key.
    let next_end = ends_at(&shop, &user).await;
    assert_eq!(next_end, end + Duration::days(30));
    assert_eq!(
        renew(&shop, next_end - Duration::hours(23)).await.renewed,
        1
    );
    let charges = shop.yk.autopayments();
    assert_eq!(charges.len(), 2);
    assert_ne!(charges[0].idempotence_key, charges[1].idempotence_key);
    assert_eq!(days_left(&shop.subscription(&user).await.unwrap()), 90);
}

async fn a_declined_charge_is_retried_twice_then_auto_renewal_stops(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let mut notices = shop.cards.subscribe_renewal_notices();
    let (user, method) = auto_renewing(&shop, 2003).await;
    shop.yk.set_declining(&method, true).unwrap();
    let end = ends_at(&shop, &user).await;
    let first = end - AUTO_RENEWAL_LEAD;

    assert_eq!(renew(&shop, first).await.declined, 1);
    let notice = notices.try_recv().unwrap();
    assert_eq!(notice.user, user.id);
    assert_eq!(notice.kind, RenewalNoticeKind::Declined { retries_left: 2 });
    // Not again before the spacing.
    assert_eq!(
        renew(&shop, first + Duration::hours(1)).await,
        RenewalReport::default()
    );
    assert_eq!(shop.yk.autopayments().len(), 1);

    let second = first + AUTO_RENEWAL_RETRY_AFTER;
    assert_eq!(renew(&shop, second).await.declined, 1);
    assert_eq!(
        notices.try_recv().unwrap().kind,
        RenewalNoticeKind::Declined { retries_left: 1 }
    );

    let third = second + AUTO_RENEWAL_RETRY_AFTER;
    let report = renew(&shop, third).await;
    assert_eq!((report.declined, report.stopped), (1, 1));
    assert_eq!(notices.try_recv().unwrap().kind, RenewalNoticeKind::Stopped);
    assert!(notices.try_recv().is_err(), "told once");
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_none());
    assert!(!whole_database(db).await.contains(&method));

    // Nothing more, ever: three charges in all, each its own key, and no days given.
    assert_eq!(
        renew(&shop, third + AUTO_RENEWAL_RETRY_AFTER).await,
        RenewalReport::default()
    );
    let charges = shop.yk.autopayments();
    assert_eq!(charges.len(), 3);
    let mut keys: Vec<_> = charges.iter().map(|c| c.idempotence_key.clone()).collect();
    keys.dedup();
    assert_eq!(keys.len(), 3);
    assert_eq!(ends_at(&shop, &user).await, end);
}

async fn a_retry_that_goes_through_renews(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2004).await;
    shop.yk.set_declining(&method, true).unwrap();
    let end = ends_at(&shop, &user).await;
    assert_eq!(renew(&shop, end - AUTO_RENEWAL_LEAD).await.declined, 1);
    shop.yk.set_declining(&method, false).unwrap();
    let retry = end - AUTO_RENEWAL_LEAD + AUTO_RENEWAL_RETRY_AFTER;
    assert_eq!(renew(&shop, retry).await.renewed, 1);
    assert_eq!(ends_at(&shop, &user).await, end + Duration::days(30));
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_some());
}

async fn a_revoked_permission_stops_at_once(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let mut notices = shop.cards.subscribe_renewal_notices();
    let (user, method) = auto_renewing(&shop, 2005).await;
    shop.yk.revoke(&method).unwrap();
    let end = ends_at(&shop, &user).await;
    assert_eq!(renew(&shop, end - AUTO_RENEWAL_LEAD).await.stopped, 1);
    assert_eq!(notices.try_recv().unwrap().kind, RenewalNoticeKind::Stopped);
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_none());
    assert_eq!(shop.yk.autopayments().len(), 1);
}

async fn switching_off_on_the_account_page_stops_charges_and_deletes_the_method(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2006).await;
    let link = shop
        .app()
        .issue_account_link(user.id, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let path = link.url.split_once("/account/").unwrap().1;
    let page = reqwest::get(shop.url(&format!("/account/{path}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/auto-renewal/off"),
        "the page offers the button"
    );
    let r = no_redirects()
        .post(shop.url(&format!("/account/{path}/auto-renewal/off")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_none());
    assert!(!whole_database(db).await.contains(&method));
    let end = ends_at(&shop, &user).await;
    assert_eq!(
        renew(&shop, end - Duration::hours(1)).await,
        RenewalReport::default()
    );
    assert!(shop.yk.autopayments().is_empty());
}

async fn the_export_names_auto_renewal_and_withholds_the_method(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2007).await;
    let export = shop.store().export_user(user.id).await.unwrap().unwrap();
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["auto_renewal"]["plan"], "month");
    assert!(!json.to_string().contains(&method));
}

async fn erasure_deletes_the_method_id(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2008).await;
    assert!(
        whole_database(db).await.contains(&method),
        "stored while on"
    );
    shop.store().erase_user(user.id).await.unwrap();
    assert!(!whole_database(db).await.contains(&method));
}

/// SQLite only: the same raw-bytes check as the deletion tests, over the database's files.
#[tokio::test]
async fn after_erasure_the_method_id_is_in_no_byte_of_the_sqlite_files() {
    let db = &TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2009).await;
    let dir = db.sqlite_dir().unwrap();
    let found_in_files = || {
        std::fs::read_dir(dir).unwrap().any(|entry| {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            bytes.windows(method.len()).any(|w| w == method.as_bytes())
        })
    };
    assert!(found_in_files(), "the check can see it while it is stored");
    shop.store().erase_user(user.id).await.unwrap();
    assert!(!found_in_files(), "gone from every file after erasure");
}

/// SQLite only: switching off deletes the id from the files at once, too.
#[tokio::test]
async fn after_switching_off_the_method_id_is_in_no_byte_of_the_sqlite_files() {
    let db = &TestDb::sqlite().await;
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, method) = auto_renewing(&shop, 2010).await;
    let dir = db.sqlite_dir().unwrap();
    assert!(shop.app().switch_off_auto_renewal(user.id).await.unwrap());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(method.len()).any(|w| w == method.as_bytes());
        assert!(!found, "{} still holds the method id", path.display());
    }
}

/// YooKassa's id of the latest auto-renewal charge it made.
fn latest_charge(shop: &Shop) -> String {
    shop.yk
        .payment_ids()
        .into_iter()
        .filter(|id| {
            shop.yk.payment(id).unwrap()["description"]
                .as_str()
                .is_some_and(|d| d.contains("auto-renewal"))
        })
        .max_by_key(|id| shop.yk.payment(id).unwrap()["created_at"].to_string())
        .expect("a charge was made")
}

async fn a_charge_left_pending_then_declined_is_told_like_an_immediate_decline(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let mut notices = shop.cards.subscribe_renewal_notices();
    let (user, method) = auto_renewing(&shop, 2011).await;
    shop.yk.set_holding(&method, true).unwrap();
    let end = ends_at(&shop, &user).await;
    let first = end - AUTO_RENEWAL_LEAD;
    assert_eq!(renew(&shop, first).await.undecided, 1);
    assert!(notices.try_recv().is_err(), "nothing to say yet");

    // The issuer declines later; YooKassa's notification settles it, and the person hears the
    // same as for an immediate decline, once however many notifications come.
    let charge = latest_charge(&shop);
    shop.yk.cancel(&charge).unwrap();
    assert_eq!(shop.notify(&charge).await, 200);
    assert_eq!(shop.notify(&charge).await, 200);
    let notice = notices.try_recv().unwrap();
    assert_eq!(notice.user, user.id);
    assert_eq!(notice.kind, RenewalNoticeKind::Declined { retries_left: 2 });
    assert!(notices.try_recv().is_err(), "told once");

    // The retry comes after the spacing, as after an immediate decline.
    shop.yk.set_holding(&method, false).unwrap();
    assert_eq!(
        renew(&shop, first + Duration::hours(1)).await,
        RenewalReport::default()
    );
    assert_eq!(
        renew(&shop, first + AUTO_RENEWAL_RETRY_AFTER).await.renewed,
        1
    );
    assert_eq!(ends_at(&shop, &user).await, end + Duration::days(30));
}

async fn an_attempt_whose_answer_was_lost_is_made_again_under_its_own_key(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, _method) = auto_renewing(&shop, 2012).await;
    let end = ends_at(&shop, &user).await;
    let at = end - AUTO_RENEWAL_LEAD;

    // YooKassa charges the card, but its answers (to the request and to its retry) are lost:
    // our payment stays pending without YooKassa's id.
    shop.yk.set_losing_payment_answers(true);
    assert_eq!(renew(&shop, at).await.failed, 1);
    shop.yk.set_losing_payment_answers(false);
    assert_eq!(shop.yk.autopayments().len(), 1, "one charge made");
    assert_eq!(ends_at(&shop, &user).await, end, "not credited yet");

    // A round moments later (another job racing the one making it) leaves it alone.
    assert_eq!(
        renew(&shop, at + Duration::minutes(1)).await,
        RenewalReport::default()
    );
    // The reconciler leaves the open attempt alone (canceling it would let a new attempt
    // charge the card again) ...
    shop.cards
        .reconcile_once(at + Duration::hours(1))
        .await
        .unwrap();
    // ... and the next round makes the same attempt, under the same key: YooKassa answers
    // with the charge it already made, which is credited once.
    let report = renew(&shop, at + Duration::hours(2)).await;
    assert_eq!(report.renewed, 1, "{report:?}");
    let charges = shop.yk.autopayments();
    assert_eq!(charges.len(), 1, "YooKassa made one charge");
    let keys: Vec<_> = shop
        .yk
        .recorded()
        .into_iter()
        .filter(|r| r.body.get("payment_method_id").is_some())
        .map(|r| r.idempotence_key)
        .collect();
    assert!(
        keys.iter().all(|k| *k == charges[0].idempotence_key),
        "{keys:?}"
    );
    assert!(charges[0].idempotence_key.ends_with("-1"));
    assert_eq!(ends_at(&shop, &user).await, end + Duration::days(30));
    assert_eq!(
        renew(&shop, at + Duration::hours(3)).await,
        RenewalReport::default()
    );
}

async fn a_gift_never_saves_the_card(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, token) = shop.customer(2013).await;
    let plan = shop
        .app()
        .card_plans()
        .into_iter()
        .find(|p| p.id.0 == "month")
        .unwrap();
    let link = shop.app().card_gift_checkout_url(&token, &plan);
    let page = no_redirects()
        .get(link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="gift" value="1""#), "{page}");
    assert!(
        !page.contains("auto_renew"),
        "a gift's page offers no auto-renewal"
    );
    // Even a crafted form that asks for it gets none.
    let r = no_redirects()
        .post(shop.url(app::CARD_CHECKOUT_PATH))
        .form(&[
            ("t", token.as_str()),
            ("plan", "month"),
            ("gift", "1"),
            ("auto_renew", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let request = shop.yk.recorded().last().unwrap().body.clone();
    assert!(request.get("save_payment_method").is_none(), "{request}");
    let yk_id = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_none());
}

async fn a_discounted_first_payment_renews_at_the_full_price(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    shop.app()
        .add_promo(NewPromo {
            code: "HALF".parse().unwrap(),
            benefit: PromoBenefit::Percent(Percent::new(50).unwrap()),
            plan: None,
            max_uses: None,
            valid_until: None,
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let (user, token) = shop.customer(2014).await;
    let page = no_redirects()
        .get(format!(
            "{}&promo=HALF",
            shop.checkout_link(&token, "month")
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"auto_renew\""), "{page}");
    assert!(
        page.contains("full price"),
        "the page says what renewals cost"
    );
    let r = no_redirects()
        .post(shop.url(app::CARD_CHECKOUT_PATH))
        .form(&[
            ("t", token.as_str()),
            ("plan", "month"),
            ("promo", "HALF"),
            ("auto_renew", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let request = shop.yk.recorded().last().unwrap().body.clone();
    assert_eq!(request["save_payment_method"], true, "{request}");
    assert_eq!(request["amount"]["value"], "99.50", "{request}");
    let yk_id = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    assert!(shop.app().auto_renewal(user.id).await.unwrap().is_some());
    let end = ends_at(&shop, &user).await;
    assert_eq!(renew(&shop, end - AUTO_RENEWAL_LEAD).await.renewed, 1);
    let charges = shop.yk.autopayments();
    assert_eq!(charges[0].body["amount"]["value"], "199.00");
    // The code was used once, by the first payment only.
    let export = shop.store().export_user(user.id).await.unwrap().unwrap();
    assert_eq!(export.promo_codes.len(), 1);
}

store::backend_tests!(
    auto_renewal_is_opt_in,
    the_saved_method_is_charged_once_a_day_before_the_end,
    a_declined_charge_is_retried_twice_then_auto_renewal_stops,
    a_retry_that_goes_through_renews,
    a_revoked_permission_stops_at_once,
    switching_off_on_the_account_page_stops_charges_and_deletes_the_method,
    the_export_names_auto_renewal_and_withholds_the_method,
    erasure_deletes_the_method_id,
    a_charge_left_pending_then_declined_is_told_like_an_immediate_decline,
    an_attempt_whose_answer_was_lost_is_made_again_under_its_own_key,
    a_gift_never_saves_the_card,
    a_discounted_first_payment_renews_at_the_full_price,
);
