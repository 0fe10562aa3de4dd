//! A card checkout with a discount code, against the YooKassa emulator over HTTP on SQLite and
//! PostgreSQL: the page prices the code without storing anything, the button pays the
//! discounted price (what YooKassa is asked for and what is credited), a canceled payment uses
//! nothing up, and the code counts once however many notifications race.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::sync::Arc;

use app::NewPromo;
use card_shop::*;
use domain::{Money, PaymentStatus, Percent, PlanId, PromoBenefit, PromoCode};
use store::testing::TestDb;
use time::OffsetDateTime;

async fn spring(shop: &Shop, plan: Option<&str>) -> domain::Promo {
    shop.app()
        .add_promo(NewPromo {
            code: "SPRING-25".parse().unwrap(),
            benefit: PromoBenefit::Percent(Percent::new(25).unwrap()),
            plan: plan.map(|p| PlanId(p.into())),
            max_uses: None,
            valid_until: None,
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap()
}

async fn view(link: String) -> (u16, String) {
    let r = no_redirects().get(link).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn pay(shop: &Shop, token: &domain::SubscriptionToken, promo: &str) -> (u16, String) {
    let r = no_redirects()
        .post(shop.url(app::CARD_CHECKOUT_PATH))
        .form(&[("t", token.as_str()), ("plan", "month"), ("promo", promo)])
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    (status, if location.is_empty() { body } else { location })
}

async fn a_card_checkout_with_a_code_pays_the_discounted_price_and_counts_once(db: &TestDb) {
    let shop = Arc::new(Shop::open(db.store.clone(), loopback_is_yookassa()).await);
    let promo = spring(&shop, Some("month")).await;
    let (ann, token) = shop.customer(3001).await;
    let month = shop
        .app()
        .card_plans()
        .into_iter()
        .find(|p| p.id.0 == "month")
        .unwrap();
    let full = month.price_rub.unwrap();
    let discounted = Percent::new(25).unwrap().apply(full);
    let shown = |m: Money| billing::amount::to_value(m);

    // The page prices the code (typed in any case) and stores nothing.
    let link = format!("{}&promo=spring-25", shop.checkout_link(&token, "month"));
    let (status, page) = view(link.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("<s>{} ₽</s>", shown(full))),
        "{page}"
    );
    assert!(page.contains(&shown(discounted)), "{page}");
    assert!(page.contains("value=\"SPRING-25\""), "{page}");
    assert!(shop.store().list_payments(None).await.unwrap().is_empty());
    assert_eq!(shop.yk.api_calls(), 0);
    // Another plan: the code is for month only, and the page says so at the full price.
    let (status, page) = view(format!(
        "{}&promo=SPRING-25",
        shop.checkout_link(&token, "quarter")
    ))
    .await;
    assert_eq!(status, 409);
    assert!(page.contains("another plan"), "{page}");

    // Paid with the code but canceled at YooKassa: nothing used up.
    let (status, location) = pay(&shop, &token, "spring-25").await;
    assert_eq!(status, 303, "{location}");
    let abandoned = location.rsplit('/').next().unwrap().to_owned();
    let remote = shop.yk.payment(&abandoned).unwrap();
    assert_eq!(remote["amount"]["value"], shown(discounted));
    let ours = shop.ours(&abandoned).await;
    assert_eq!(ours.amount, discounted);
    assert_eq!(ours.promo_code_id, Some(promo.id));
    shop.yk.cancel(&abandoned).unwrap();
    assert_eq!(shop.notify(&abandoned).await, 200);
    assert_eq!(shop.ours(&abandoned).await.status, PaymentStatus::Canceled);
    assert_eq!(shop.app().promos().await.unwrap()[0].uses, 0);
    let (status, page) = view(link.clone()).await;
    assert_eq!(status, 200, "the code still works for them: {page}");

    // Paid again and succeeded; notifications race: credited once, the code counted once.
    let (status, location) = pay(&shop, &token, "SPRING-25").await;
    assert_eq!(status, 303);
    let paid = location.rsplit('/').next().unwrap().to_owned();
    assert_ne!(paid, abandoned);
    shop.yk.succeed(&paid).unwrap();
    let racing: Vec<_> = (0..5)
        .map(|_| {
            let (shop, paid) = (shop.clone(), paid.clone());
            tokio::spawn(async move { shop.notify(&paid).await })
        })
        .collect();
    for r in racing {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(shop.ours(&paid).await.status, PaymentStatus::Succeeded);
    let sub = shop.subscription(&ann).await.unwrap();
    assert_eq!(days_left(&sub), i64::from(month.days.0), "one month, once");
    let promos = shop.app().promos().await.unwrap();
    assert_eq!(promos[0].uses, 1);

    // Used: the page and the button refuse it, and nothing new is charged.
    let (status, page) = view(link).await;
    assert_eq!(status, 409);
    assert!(page.contains("used this promo code already"), "{page}");
    let before = shop.yk.payment_ids().len();
    let (status, page) = pay(&shop, &token, "spring-25").await;
    assert_eq!(status, 409, "{page}");
    assert_eq!(shop.yk.payment_ids().len(), before);

    // Someone else still can, and an unknown or disabled code is refused by name.
    let (_, bob) = shop.customer(3002).await;
    assert_eq!(pay(&shop, &bob, "nope-1").await.0, 409);
    let code: PromoCode = "spring-25".parse().unwrap();
    assert!(shop.app().disable_promo(&code).await.unwrap());
    let (status, page) = pay(&shop, &bob, "SPRING-25").await;
    assert_eq!(status, 409);
    assert!(page.contains("disabled"), "{page}");
    assert_eq!(shop.yk.payment_ids().len(), before);
}

store::backend_tests!(a_card_checkout_with_a_code_pays_the_discounted_price_and_counts_once);
