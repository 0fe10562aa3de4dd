//! The person's own data controls on their page, against a real store: they download the same
//! document the bot and `milly user export` give, set, change and remove their email, and delete
//! their account after ticking a box — and a token nobody has gets the ordinary 404 page.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use domain::{Days, NewUser, PlanId, SubscriptionToken, TelegramId, UserId, UserRef};
use store::testing::TestDb;
use time::OffsetDateTime;
use tower::ServiceExt;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SUPPORT_TEXT: &str = "my router shows error 7";

struct World {
    _db: TestDb,
    router: axum::Router,
    store: store::Store,
    app: app::App,
}

struct Person {
    id: UserId,
    token: SubscriptionToken,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn world() -> World {
    let db = TestDb::sqlite().await;
    let mut config = config::Config::default();
    config.service.name = "Nimbus".into();
    config.service.public_url = "https://nimbus.example".into();
    let config = Arc::new(config);
    let store = db.store.clone();
    let app = app::App::new(store.clone(), config.clone());
    let router = web::router(web::Site::new(config).with_app(app.clone()));
    World {
        _db: db,
        router,
        store,
        app,
    }
}

impl World {
    /// A person with a month of access, an email and a support ticket.
    async fn person(&self, telegram_id: i64) -> Person {
        let now = OffsetDateTime::now_utc();
        let user = self
            .store
            .create_user(&NewUser::from_telegram_id(TelegramId(telegram_id)), now)
            .await
            .unwrap();
        self.store
            .grant_days(user.id, PlanId("month".into()), Days(30), now)
            .await
            .unwrap();
        let email = "first@mail.example".parse().unwrap();
        self.store.set_email(user.id, Some(&email)).await.unwrap();
        self.store
            .open_ticket(user.id, SUPPORT_TEXT, now)
            .await
            .unwrap();
        let creds = self.store.credentials(user.id).await.unwrap().unwrap();
        Person {
            id: user.id,
            token: creds.sub_token,
        }
    }

    async fn email_of(&self, p: &Person) -> Option<String> {
        let user = self.store.user(p.id).await.unwrap().unwrap();
        user.email.map(|e| e.as_str().to_owned())
    }

    async fn get(&self, uri: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::USER_AGENT, FIREFOX)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    async fn post(&self, uri: &str, form: &str) -> Answer {
        let request = Request::post(uri)
            .header(header::USER_AGENT, FIREFOX)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(request).await
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let answer = Answer {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        };
        answer.assert_guarded();
        answer
    }
}

impl Answer {
    /// Every answer, whatever it is, carries the site's security headers and sets no cookie.
    fn assert_guarded(&self) {
        let h = &self.headers;
        assert_eq!(
            h[header::CONTENT_SECURITY_POLICY],
            web::CONTENT_SECURITY_POLICY_VALUE
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert!(h.get(header::SET_COOKIE).is_none(), "{h:?}");
        assert!(!self.body.contains("<script"), "{}", self.body);
    }

    fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }
}

fn sub(p: &Person) -> String {
    format!("/sub/{}", p.token.as_str())
}

#[tokio::test]
async fn the_page_offers_download_email_and_deletion_in_both_languages() {
    let w = world().await;
    let p = w.person(7001).await;
    let en = w.get(&format!("{}?lang=en", sub(&p))).await;
    assert_eq!(en.status, StatusCode::OK);
    for part in [
        format!("href=\"{}/export?lang=en\"", sub(&p)),
        format!("action=\"{}/email?lang=en\"", sub(&p)),
        format!("href=\"{}/delete?lang=en\"", sub(&p)),
        "Download my data".to_owned(),
        "first@mail.example".to_owned(),
    ] {
        assert!(en.body.contains(&part), "{part} missing: {}", en.body);
    }
    let ru = w.get(&format!("{}?lang=ru", sub(&p))).await;
    assert!(ru.body.contains("Скачать мои данные"), "{}", ru.body);
    assert!(ru.body.contains("Удалить аккаунт"), "{}", ru.body);
}

#[tokio::test]
async fn the_download_is_the_same_document_as_the_bot_and_the_cli_give() {
    let w = world().await;
    let p = w.person(7002).await;
    let answer = w.get(&format!("{}/export", sub(&p))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"my-data.json\""
    );
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert!(answer.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let downloaded: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let expected = w.app.export(UserRef(p.id.0)).await.unwrap();
    assert_eq!(downloaded, expected);
    // The document is complete: the email and the support message are in it.
    assert!(answer.body.contains("first@mail.example"));
    assert!(answer.body.contains(SUPPORT_TEXT));
}

#[tokio::test]
async fn email_can_be_changed_removed_and_set_again() {
    let w = world().await;
    let p = w.person(7003).await;
    let email = format!("{}/email", sub(&p));

    let changed = w
        .post(&email, "email=second%40mail.example&action=save")
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        changed.location(),
        format!("{}?notice=email-saved#data", sub(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("second@mail.example"));
    let page = w
        .get(&format!("{}?lang=en&notice=email-saved", sub(&p)))
        .await;
    assert!(page.body.contains("Email saved."), "{}", page.body);
    assert!(page.body.contains("second@mail.example"));

    let removed = w.post(&email, "email=&action=remove").await;
    assert_eq!(
        removed.location(),
        format!("{}?notice=email-removed#data", sub(&p))
    );
    assert_eq!(w.email_of(&p).await, None);

    let set = w
        .post(&email, "email=third%40mail.example&action=save")
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert_eq!(w.email_of(&p).await.as_deref(), Some("third@mail.example"));
}

#[tokio::test]
async fn an_invalid_email_changes_nothing_and_says_so() {
    let w = world().await;
    let p = w.person(7004).await;
    let answer = w
        .post(
            &format!("{}/email?lang=en", sub(&p)),
            "email=not+an+email&action=save",
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.location(),
        format!("{}?lang=en&notice=email-invalid#data", sub(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    let page = w
        .get(&format!("{}?lang=en&notice=email-invalid", sub(&p)))
        .await;
    assert!(page.body.contains("does not look like an email"));
}

#[tokio::test]
async fn a_blocked_person_may_download_and_delete_but_not_change_the_email() {
    let w = world().await;
    let p = w.person(7005).await;
    w.store.set_blocked(p.id, true).await.unwrap();

    let page = w.get(&format!("{}?lang=en", sub(&p))).await;
    assert!(
        page.body.contains("the email cannot be changed"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"email\""));

    let refused = w
        .post(
            &format!("{}/email", sub(&p)),
            "email=x%40y.example&action=save",
        )
        .await;
    assert_eq!(
        refused.location(),
        format!("{}?notice=email-blocked#data", sub(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));

    let export = w.get(&format!("{}/export", sub(&p))).await;
    assert_eq!(export.status, StatusCode::OK);
    let deleted = w.post(&format!("{}/delete", sub(&p)), "confirm=yes").await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(w.store.user(p.id).await.unwrap().is_none());
}

#[tokio::test]
async fn deletion_needs_the_box_ticked_then_erases_the_person_and_the_token() {
    let w = world().await;
    let p = w.person(7006).await;
    let delete = format!("{}/delete", sub(&p));

    let confirm = w.get(&format!("{delete}?lang=en")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert_eq!(confirm.headers[header::CACHE_CONTROL], "no-store");
    assert!(confirm
        .body
        .contains("type=\"checkbox\" name=\"confirm\" value=\"yes\""));
    assert!(confirm
        .body
        .contains(&format!("action=\"{delete}?lang=en\"")));

    for unticked in ["", "confirm=no"] {
        let refused = w.post(&delete, unticked).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(w.store.user(p.id).await.unwrap().is_some());
    }

    let done = w.post(&format!("{delete}?lang=en"), "confirm=yes").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Account deleted"), "{}", done.body);
    assert!(w.store.user(p.id).await.unwrap().is_none());
    assert!(w.store.export_user(p.id).await.unwrap().is_none());
    assert!(w.store.user_by_sub_token(&p.token).await.unwrap().is_none());
    assert!(w
        .store
        .user_by_telegram(TelegramId(7006))
        .await
        .unwrap()
        .is_none());
    for gone in [sub(&p), format!("{}/export", sub(&p)), delete.clone()] {
        assert_eq!(w.get(&gone).await.status, StatusCode::NOT_FOUND, "{gone}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_an_ordinary_404_page() {
    let w = world().await;
    let _someone = w.person(7007).await;
    let guess = "A".repeat(22);
    for token in [guess.as_str(), "short", "..%2F..%2Fetc"] {
        let base = format!("/sub/{token}");
        let answers = [
            w.get(&format!("{base}/export")).await,
            w.get(&format!("{base}/delete")).await,
            w.post(&format!("{base}/delete"), "confirm=yes").await,
            w.post(&format!("{base}/email"), "email=a%40b.example")
                .await,
        ];
        for answer in answers {
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{base}");
            assert!(answer.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
        }
    }
}

#[tokio::test]
async fn a_real_token_and_a_guess_both_wait_the_minimum_answer_time() {
    let w = world().await;
    let p = w.person(7008).await;
    let guess = "B".repeat(22);
    for uri in [
        format!("{}/export", sub(&p)),
        format!("/sub/{guess}/export"),
        format!("/sub/{guess}/delete"),
    ] {
        let started = Instant::now();
        w.get(&uri).await;
        assert!(started.elapsed() >= Duration::from_millis(200), "{uri}");
    }
    let started = Instant::now();
    w.post(&format!("/sub/{guess}/email"), "email=a%40b.example")
        .await;
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_rotated_token_no_longer_opens_anything() {
    let w = world().await;
    let old = w.person(7009).await;
    let new = Person {
        id: old.id,
        token: w.store.rotate_sub_token(old.id).await.unwrap(),
    };
    assert_eq!(
        w.get(&format!("{}/export", sub(&old))).await.status,
        StatusCode::NOT_FOUND
    );
    let refused = w
        .post(&format!("{}/delete", sub(&old)), "confirm=yes")
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(w.store.user(old.id).await.unwrap().is_some());
    assert_eq!(
        w.get(&format!("{}/export", sub(&new))).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_controls_share_the_subscription_pages_rate_limit() {
    let w = world().await;
    let client: std::net::SocketAddr = "192.0.2.9:40000".parse().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let router = w.router.clone();
        let base = format!("/sub/{}", SubscriptionToken::generate().as_str());
        let request = match i % 3 {
            0 => Request::get(format!("{base}/export")).body(Body::empty()),
            1 => Request::post(format!("{base}/email"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("email=a%40b.example")),
            _ => Request::post(format!("{base}/delete"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("confirm=yes")),
        };
        let mut request = request.unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(client));
        tasks.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    let statuses: Vec<StatusCode> = tasks.join_all().await;
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 10, "{statuses:?}");
    // The page itself draws from the same bucket.
    let mut request = Request::get("/sub/x").body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(client));
    let response = w.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}
