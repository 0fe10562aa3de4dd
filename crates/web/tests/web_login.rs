//! Buying on the website without the bot, over HTTP on SQLite and PostgreSQL: a person signs in
//! with Telegram's login data (signed here with the shop bot's token, as Telegram signs it),
//! sees their subscription at `/me`, pays by card through the YooKassa emulator and signs out.
//! Forged, replayed and cross-form logins open nothing; someone without an account is sent to
//! the bot and nothing about them is stored; the subscription page links to the card checkout;
//! the operator's payment methods reach YooKassa as `payment_method_data`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod card_shop;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use card_shop::*;
use domain::PaymentMethod;
use reqwest::header::{COOKIE, SET_COOKIE};
use store::testing::TestDb;
use time::OffsetDateTime;
use yookassa_emulator::Emulator;

/// Telegram's login result for `telegram_id`, signed with `token`, as the redirect flow's
/// `tgAuthResult` (base64 of its JSON).
fn tg_auth_result(telegram_id: i64, token: &str, tamper: bool) -> String {
    let mut fields = BTreeMap::from([
        ("id".to_owned(), telegram_id.to_string()),
        ("first_name".to_owned(), "Анна".to_owned()),
        ("username".to_owned(), "anna_k".to_owned()),
        (
            "auth_date".to_owned(),
            OffsetDateTime::now_utc().unix_timestamp().to_string(),
        ),
    ]);
    let hash = domain::telegram_login::sign(&fields, token);
    if tamper {
        fields.insert("id".into(), (telegram_id + 1).to_string());
    }
    let json = serde_json::json!({
        "id": fields["id"].parse::<i64>().unwrap(),
        "first_name": fields["first_name"],
        "username": fields["username"],
        "auth_date": fields["auth_date"].parse::<i64>().unwrap(),
        "hash": hash,
    });
    base64::engine::general_purpose::STANDARD.encode(json.to_string())
}

/// The value of cookie `name` that `response` sets, if any.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap()
}

/// Opens the page Telegram returns to: the form's token (also its cookie's value).
async fn login_form(shop: &Shop) -> String {
    let r = no_redirects()
        .get(shop.url("/login/telegram"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("telegram"), "nothing third-party: {csp}");
    let cookie = set_cookie(&r, web::LOGIN_COOKIE).expect("the form's cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let token = cookie_value(&cookie);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("value=\"{token}\"")), "{page}");
    assert!(page.contains("<script src=\"/assets/login."), "{page}");
    token
}

/// Posts a login result the way the return page's script does; the response.
async fn post_login(
    shop: &Shop,
    csrf_cookie: &str,
    csrf_field: &str,
    result: &str,
) -> reqwest::Response {
    no_redirects()
        .post(shop.url("/login/telegram"))
        .header(COOKIE, format!("{}={csrf_cookie}", web::LOGIN_COOKIE))
        .form(&[
            ("csrf", csrf_field),
            ("tg_auth_result", result),
            ("tg_query", ""),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs in with a fresh, correctly signed login for `telegram_id`: the session cookie.
async fn sign_in(shop: &Shop, telegram_id: i64) -> String {
    let csrf = login_form(shop).await;
    let r = post_login(
        shop,
        &csrf,
        &csrf,
        &tg_auth_result(telegram_id, BOT_TOKEN, false),
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/me");
    let cookie = set_cookie(&r, web::SESSION_COOKIE).expect("a session cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/me"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    cookie_value(&cookie)
}

async fn me(shop: &Shop, session: &str) -> reqwest::Response {
    no_redirects()
        .get(shop.url("/me"))
        .header(COOKIE, format!("{}={session}", web::SESSION_COOKIE))
        .send()
        .await
        .unwrap()
}

/// The CSRF token in `/me`'s forms.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_owned()
}

async fn post_me(
    shop: &Shop,
    path: &str,
    session: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    no_redirects()
        .post(shop.url(path))
        .header(COOKIE, format!("{}={session}", web::SESSION_COOKIE))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn sign_in_see_pay_and_sign_out(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (user, token) = shop.customer(4242).await;

    let login = reqwest::get(shop.url("/login")).await.unwrap();
    assert_eq!(login.status(), 200);
    let page = login.text().await.unwrap();
    assert!(
        page.contains("https://oauth.telegram.org/auth?bot_id=777000&#38;origin="),
        "{page}"
    );
    assert!(!page.contains("<script"), "{page}");

    let session = sign_in(&shop, 4242).await;
    let r = me(&shop, &session).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"status\""), "{page}");
    assert!(
        !page.contains(token.as_str()),
        "nothing to import before a subscription"
    );
    assert!(page.contains("value=\"month\""), "{page}");
    let csrf = csrf_of(&page);

    // Without the session's token nothing is paid.
    for forged in ["", "x", &csrf[1..]] {
        let r = post_me(
            &shop,
            "/me/pay",
            &session,
            &[("csrf", forged), ("plan", "month")],
        )
        .await;
        assert_eq!(r.status(), 403);
    }
    assert!(shop.yk.payment_ids().is_empty());

    let r = post_me(
        &shop,
        "/me/pay",
        &session,
        &[("csrf", &csrf), ("plan", "month")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let yk_id = location.rsplit('/').next().unwrap().to_owned();
    let created = shop.yk.payment(&yk_id).expect("created at YooKassa");
    assert!(
        created.get("payment_method").is_none(),
        "no method chosen: {created}"
    );
    shop.yk.succeed(&yk_id).unwrap();
    assert_eq!(shop.notify(&yk_id).await, 200);
    let sub = shop.subscription(&user).await.expect("paid");
    assert_eq!(days_left(&sub), 30);
    let page = me(&shop, &session).await.text().await.unwrap();
    assert!(page.contains("id=\"days-left\">30<"), "{page}");
    assert!(
        page.contains(token.as_str()),
        "the subscription link: {page}"
    );
    assert!(page.contains("<svg"), "its QR code");
    assert!(page.contains("<strong>month</strong>"), "the plan: {page}");

    // Sign-out needs the token too, then the cookie opens nothing.
    let r = post_me(&shop, "/me/logout", &session, &[("csrf", "nope")]).await;
    assert_eq!(r.status(), 403);
    let r = post_me(&shop, "/me/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookie(&r, web::SESSION_COOKIE)
        .unwrap()
        .contains("Max-Age=0"));
    let r = me(&shop, &session).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = post_me(
        &shop,
        "/me/pay",
        &session,
        &[("csrf", &csrf), ("plan", "month")],
    )
    .await;
    assert_eq!(r.status(), 303, "to the sign-in page");
    assert_eq!(shop.yk.payment_ids().len(), 1);
}

async fn forged_replayed_and_cross_form_logins_open_nothing(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    shop.customer(4242).await;
    let good = tg_auth_result(4242, BOT_TOKEN, false);

    let csrf = login_form(&shop).await;
    let r = post_login(&shop, &csrf, &csrf, &tg_auth_result(4242, BOT_TOKEN, true)).await;
    assert_eq!(r.status(), 403, "tampered");
    assert!(set_cookie(&r, web::SESSION_COOKIE).is_none());
    let csrf = login_form(&shop).await;
    let r = post_login(
        &shop,
        &csrf,
        &csrf,
        &tg_auth_result(4242, "777000:another", false),
    )
    .await;
    assert_eq!(r.status(), 403, "another bot's signature");
    let csrf = login_form(&shop).await;
    let r = post_login(&shop, &csrf, &csrf, "not-base64!").await;
    assert_eq!(r.status(), 403, "garbage");

    // A form without this browser's cookie (another site posting) is refused before anything.
    let r = post_login(&shop, "", "", &good).await;
    assert_eq!(r.status(), 403);
    let other = login_form(&shop).await;
    let r = post_login(&shop, &other, &login_form(&shop).await, &good).await;
    assert_eq!(r.status(), 403);

    // The good one works once; its replay opens nothing, even after sign-out.
    let csrf = login_form(&shop).await;
    let r = post_login(&shop, &csrf, &csrf, &good).await;
    assert_eq!(r.status(), 303);
    let csrf = login_form(&shop).await;
    let r = post_login(&shop, &csrf, &csrf, &good).await;
    assert_eq!(r.status(), 403, "replayed");
    assert!(set_cookie(&r, web::SESSION_COOKIE).is_none());
    let dump = whole_database(db).await;
    assert!(
        !dump.contains("anna_k") && !dump.contains("Анна"),
        "nothing of the login data is kept"
    );
}

async fn a_bots_login_button_signs_in_through_the_query(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    shop.customer(4343).await;
    let mut fields = BTreeMap::from([
        ("id".to_owned(), "4343".to_owned()),
        ("first_name".to_owned(), "Ann Lee".to_owned()),
        (
            "auth_date".to_owned(),
            OffsetDateTime::now_utc().unix_timestamp().to_string(),
        ),
    ]);
    let hash = domain::telegram_login::sign(&fields, BOT_TOKEN);
    fields.insert("hash".into(), hash);
    let query = serde_urlencoded::to_string(&fields).unwrap();
    let r = no_redirects()
        .get(shop.url(&format!("/login/telegram?{query}")))
        .send()
        .await
        .unwrap();
    let csrf = cookie_value(&set_cookie(&r, web::LOGIN_COOKIE).unwrap());
    let page = r.text().await.unwrap();
    assert!(
        page.contains("data-ready=\"1\""),
        "the script posts at once: {page}"
    );
    assert!(
        page.contains("name=\"tg_query\" value=\"auth_date="),
        "{page}"
    );
    let r = no_redirects()
        .post(shop.url("/login/telegram"))
        .header(COOKIE, format!("{}={csrf}", web::LOGIN_COOKIE))
        .form(&[
            ("csrf", csrf.as_str()),
            ("tg_auth_result", ""),
            ("tg_query", &query),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(set_cookie(&r, web::SESSION_COOKIE).is_some());
    // A query that is no login result is not carried into the form.
    let r = reqwest::get(shop.url("/login/telegram?lang=en"))
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("name=\"tg_query\" value=\"\""), "{page}");
    assert!(!page.contains("data-ready"), "{page}");
}

async fn someone_without_an_account_is_sent_to_the_bot_and_nothing_is_stored(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let csrf = login_form(&shop).await;
    let r = post_login(&shop, &csrf, &csrf, &tg_auth_result(9090, BOT_TOKEN, false)).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookie(&r, web::SESSION_COOKIE).is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains("Telegram"), "{page}");
    let stranger = shop
        .store()
        .user_by_telegram(domain::TelegramId(9090))
        .await
        .unwrap();
    assert!(stranger.is_none(), "no account is made on the website");
    let dump = whole_database(db).await;
    assert!(!dump.contains("9090"), "nothing about them is stored");
}

async fn the_subscription_page_links_to_the_card_checkout(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (_, token) = shop.customer(5151).await;
    let r = reqwest::Client::new()
        .get(shop.url(&format!("/sub/{}", token.as_str())))
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let checkout = format!("/pay/checkout?t={}&#38;plan=month", token.as_str());
    assert!(page.contains(&checkout), "{page}");
    // The link opens the checkout page, which pays only through its button.
    let (status, offer) = shop.view_checkout(&token, "month").await;
    assert_eq!(status, 200);
    assert!(offer.contains("<form method=post"), "{offer}");
    assert!(shop.yk.payment_ids().is_empty());
}

async fn the_operators_payment_methods_reach_yookassa(db: &TestDb) {
    let yk = Arc::new(Emulator::start(SHOP_ID, SECRET_KEY).await.unwrap());
    let shop = Shop::open_tuned(db.store.clone(), loopback_is_yookassa(), yk, |s| {
        s.yookassa.payment_methods = vec![PaymentMethod::Sbp, PaymentMethod::BankCard];
    })
    .await;
    let (_, token) = shop.customer(6161).await;
    let session = sign_in(&shop, 6161).await;
    let page = me(&shop, &session).await.text().await.unwrap();
    assert!(page.contains("name=\"method\" value=\"sbp\""), "{page}");
    assert!(
        page.contains("name=\"method\" value=\"bank_card\""),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let paid_with = |r: reqwest::Response| {
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let id = location.rsplit('/').next().unwrap().to_owned();
        shop.yk.payment(&id).unwrap()["payment_method"]["type"].clone()
    };
    let r = post_me(
        &shop,
        "/me/pay",
        &session,
        &[("csrf", &csrf), ("plan", "month"), ("method", "bank_card")],
    )
    .await;
    assert_eq!(paid_with(r), "bank_card");
    // The bot's checkout page asks too; a method not offered falls back to the first.
    let (_, offer) = shop.view_checkout(&token, "quarter").await;
    assert!(offer.contains("value=\"sbp\""), "{offer}");
    let r = no_redirects()
        .post(shop.url(app::CARD_CHECKOUT_PATH))
        .form(&[
            ("t", token.as_str()),
            ("plan", "quarter"),
            ("method", "yoo_money"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(paid_with(r), "sbp");
}

store::backend_tests!(
    sign_in_see_pay_and_sign_out,
    forged_replayed_and_cross_form_logins_open_nothing,
    a_bots_login_button_signs_in_through_the_query,
    someone_without_an_account_is_sent_to_the_bot_and_nothing_is_stored,
    the_subscription_page_links_to_the_card_checkout,
    the_operators_payment_methods_reach_yookassa,
);
