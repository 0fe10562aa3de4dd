//! The person's own data controls, against a real store, reached only with the short-lived
//! account link the bot gives (`/account/{token}`): they download the same document the bot and
//! `milly user export` give, set, change and remove their email, and delete their account after
//! ticking a box. The subscription token alone opens none of it; an unknown, replaced or expired
//! link gets one "ask the bot for a new one" page; only same-site `POST`s act.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use domain::{
    AccountLinkToken, Days, NewUser, PlanId, SubscriptionToken, TelegramId, UserId, UserRef,
};
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
    /// The token of the account link the bot would have given.
    link: String,
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
            link: self.new_link(user.id).await,
        }
    }

    /// A fresh account link for `id`, as the bot asks for one; returns its token.
    async fn new_link(&self, id: UserId) -> String {
        let link = self
            .app
            .issue_account_link(id, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let prefix = "https://nimbus.example/account/";
        assert!(link.url.starts_with(prefix), "{link:?}");
        link.url[prefix.len()..].to_owned()
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
        self.post_from(uri, form, &[]).await
    }

    /// A form post carrying the given browser headers (`Origin`, `Sec-Fetch-Site`, `Host`).
    async fn post_from(&self, uri: &str, form: &str, extra: &[(&str, &str)]) -> Answer {
        let mut request = Request::post(uri)
            .header(header::USER_AGENT, FIREFOX)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(form.to_owned())).unwrap())
            .await
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
    /// Every answer, whatever it is, carries the site's security headers and sets no cookie:
    /// the account link in the address is the only key, so there is no session to steal.
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

fn acct(p: &Person) -> String {
    format!("/account/{}", p.link)
}

/// What an unknown, replaced or expired account link is answered with.
fn assert_expired(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::GONE);
    assert!(answer.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        answer.body.contains("This link no longer works")
            && answer.body.contains("Ask the bot for a new one"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn the_data_page_offers_download_email_and_deletion_in_both_languages() {
    let w = world().await;
    let p = w.person(7001).await;
    let en = w.get(&format!("{}?lang=en", acct(&p))).await;
    assert_eq!(en.status, StatusCode::OK);
    assert_eq!(en.headers[header::CACHE_CONTROL], "no-store");
    for part in [
        format!("method=\"post\" action=\"{}/export?lang=en\"", acct(&p)),
        format!("method=\"post\" action=\"{}/email?lang=en\"", acct(&p)),
        format!("href=\"{}/delete?lang=en\"", acct(&p)),
        "Download my data".to_owned(),
        "first@mail.example".to_owned(),
        "works for 15 minutes".to_owned(),
        "Withdrawing your consent".to_owned(),
    ] {
        assert!(en.body.contains(&part), "{part} missing: {}", en.body);
    }
    // The page is about the person's data; the subscription secret is not on it.
    assert!(!en.body.contains(p.token.as_str()));
    let ru = w.get(&format!("{}?lang=ru", acct(&p))).await;
    assert!(ru.body.contains("Скачать мои данные"), "{}", ru.body);
    assert!(ru.body.contains("Удалить аккаунт"), "{}", ru.body);
}

#[tokio::test]
async fn the_subscription_page_is_read_only_and_points_to_the_bot() {
    let w = world().await;
    let p = w.person(7010).await;
    let page = w.get(&format!("{}?lang=en", sub(&p))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Manage my data on the website"),
        "{}",
        page.body
    );
    for gone in [
        "<form",
        "/export",
        "/email",
        "/delete",
        "first@mail.example",
    ] {
        assert!(!page.body.contains(gone), "{gone} on the subscription page");
    }
}

#[tokio::test]
async fn the_subscription_token_alone_can_no_longer_export_change_or_delete() {
    let w = world().await;
    let p = w.person(7011).await;
    let base = sub(&p);
    let answers = [
        w.get(&format!("{base}/export")).await,
        w.post(&format!("{base}/export"), "").await,
        w.get(&format!("{base}/delete?lang=en")).await,
        w.post(&format!("{base}/delete"), "confirm=yes").await,
        w.post(
            &format!("{base}/email"),
            "email=thief%40evil.example&action=save",
        )
        .await,
        w.post(&format!("{base}/email"), "action=remove").await,
        // Nor does the subscription token open the account pages.
        w.get(&format!("/account/{}", p.token.as_str())).await,
        w.post(&format!("/account/{}/export", p.token.as_str()), "")
            .await,
        w.post(
            &format!("/account/{}/delete", p.token.as_str()),
            "confirm=yes",
        )
        .await,
    ];
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::GONE);
        assert!(!answer.body.contains("first@mail.example"));
        assert!(!answer.body.contains(SUPPORT_TEXT));
        assert!(answer.headers.get(header::CONTENT_DISPOSITION).is_none());
    }
    // The old addresses say where to go, and say the same whatever the token.
    assert!(
        answers[2].body.contains("ask the bot for a link"),
        "{}",
        answers[2].body
    );
    let guessed = w
        .get(&format!("/sub/{}/delete?lang=en", "C".repeat(22)))
        .await;
    assert_eq!(guessed.status, answers[2].status);
    assert_eq!(guessed.body, answers[2].body);
    assert!(w.store.user(p.id).await.unwrap().is_some());
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
}

#[tokio::test]
async fn the_download_is_the_same_document_as_the_bot_and_the_cli_give() {
    let w = world().await;
    let p = w.person(7002).await;
    let answer = w.post(&format!("{}/export", acct(&p)), "").await;
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
    // The link's secret is not in it.
    assert!(!answer.body.contains(&p.link));
}

#[tokio::test]
async fn only_post_acts_and_a_form_from_another_site_does_nothing() {
    let w = world().await;
    let p = w.person(7012).await;
    // A link, a preview or a prefetch cannot act: GET on the action addresses is refused.
    for path in ["/export", "/email"] {
        let answer = w.get(&format!("{}{path}", acct(&p))).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(answer.headers.get(header::CONTENT_DISPOSITION).is_none());
    }
    let confirm = w.get(&format!("{}/delete?confirm=yes", acct(&p))).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(w.store.user(p.id).await.unwrap().is_some());

    let evil = [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![
            ("origin", "https://evil.example"),
            ("host", "nimbus.example"),
        ],
        vec![("origin", "null"), ("host", "nimbus.example")],
    ];
    for headers in &evil {
        let export = w
            .post_from(&format!("{}/export", acct(&p)), "", headers)
            .await;
        assert_eq!(export.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(!export.body.contains(SUPPORT_TEXT));
        let email = w
            .post_from(
                &format!("{}/email", acct(&p)),
                "email=thief%40evil.example&action=save",
                headers,
            )
            .await;
        assert_eq!(email.status, StatusCode::FORBIDDEN, "{headers:?}");
        let delete = w
            .post_from(&format!("{}/delete", acct(&p)), "confirm=yes", headers)
            .await;
        assert_eq!(delete.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    assert!(w.store.user(p.id).await.unwrap().is_some());

    // The site's own page posting to itself is fine.
    let own = [
        ("sec-fetch-site", "same-origin"),
        ("origin", "https://nimbus.example"),
        ("host", "nimbus.example"),
    ];
    let saved = w
        .post_from(
            &format!("{}/email", acct(&p)),
            "email=mine%40mail.example&action=save",
            &own,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(w.email_of(&p).await.as_deref(), Some("mine@mail.example"));
}

#[tokio::test]
async fn email_can_be_changed_removed_and_set_again() {
    let w = world().await;
    let p = w.person(7003).await;
    let email = format!("{}/email", acct(&p));

    let changed = w
        .post(&email, "email=second%40mail.example&action=save")
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        changed.location(),
        format!("{}?notice=email-saved#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("second@mail.example"));
    let page = w
        .get(&format!("{}?lang=en&notice=email-saved", acct(&p)))
        .await;
    assert!(page.body.contains("Email saved."), "{}", page.body);
    assert!(page.body.contains("second@mail.example"));

    let removed = w.post(&email, "email=&action=remove").await;
    assert_eq!(
        removed.location(),
        format!("{}?notice=email-removed#data", acct(&p))
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
            &format!("{}/email?lang=en", acct(&p)),
            "email=not+an+email&action=save",
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.location(),
        format!("{}?lang=en&notice=email-invalid#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    let page = w
        .get(&format!("{}?lang=en&notice=email-invalid", acct(&p)))
        .await;
    assert!(page.body.contains("does not look like an email"));
}

#[tokio::test]
async fn a_blocked_person_may_download_and_delete_but_not_change_the_email() {
    let w = world().await;
    let p = w.person(7005).await;
    w.store.set_blocked(p.id, true).await.unwrap();

    let page = w.get(&format!("{}?lang=en", acct(&p))).await;
    assert!(
        page.body.contains("the email cannot be changed"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"email\""));

    let refused = w
        .post(
            &format!("{}/email", acct(&p)),
            "email=x%40y.example&action=save",
        )
        .await;
    assert_eq!(
        refused.location(),
        format!("{}?notice=email-blocked#data", acct(&p))
    );
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));

    let export = w.post(&format!("{}/export", acct(&p)), "").await;
    assert_eq!(export.status, StatusCode::OK);
    let deleted = w.post(&format!("{}/delete", acct(&p)), "confirm=yes").await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(w.store.user(p.id).await.unwrap().is_none());
}

#[tokio::test]
async fn deletion_needs_the_box_ticked_then_erases_the_person_and_kills_the_link() {
    let w = world().await;
    let p = w.person(7006).await;
    let delete = format!("{}/delete", acct(&p));

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
    assert_eq!(w.get(&sub(&p)).await.status, StatusCode::NOT_FOUND);
    // The link is dead: every page of it says so, and a replay deletes nothing more.
    assert_expired(&w.get(&format!("{}?lang=en", acct(&p))).await);
    assert_expired(&w.post(&format!("{}/export?lang=en", acct(&p)), "").await);
    assert_expired(&w.post(&format!("{delete}?lang=en"), "confirm=yes").await);
}

#[tokio::test]
async fn unknown_malformed_replaced_and_expired_links_get_one_page_that_says_nothing() {
    let w = world().await;
    let p = w.person(7007).await;
    // Expired: issued 20 minutes ago with the normal lifetime.
    let old = AccountLinkToken::generate();
    let issued = OffsetDateTime::now_utc() - time::Duration::minutes(20);
    w.store
        .issue_account_link(
            p.id,
            &old.hash(),
            issued,
            issued + app::account_link_lifetime(),
        )
        .await
        .unwrap();
    // Replaced: the bot gave a newer link since (which also revoked the expired one).
    let newer = w.new_link(p.id).await;
    let unknown = AccountLinkToken::generate();
    let mut bodies = Vec::new();
    for token in [
        p.link.as_str(),
        old.as_str(),
        unknown.as_str(),
        "short",
        "..%2F..%2Fetc",
    ] {
        let base = format!("/account/{token}");
        let answers = [
            w.get(&format!("{base}?lang=en")).await,
            w.get(&format!("{base}/delete?lang=en")).await,
            w.post(&format!("{base}/export?lang=en"), "").await,
            w.post(&format!("{base}/delete?lang=en"), "confirm=yes")
                .await,
            w.post(
                &format!("{base}/email?lang=en"),
                "email=a%40b.example&action=save",
            )
            .await,
        ];
        for answer in answers {
            assert_expired(&answer);
            bodies.push(answer.body);
        }
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "the pages differ: {bodies:#?}");
    assert!(w.store.user(p.id).await.unwrap().is_some());
    assert_eq!(w.email_of(&p).await.as_deref(), Some("first@mail.example"));
    // The newest link works.
    let page = w.get(&format!("/account/{newer}")).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn a_real_link_and_a_guess_both_wait_the_minimum_answer_time() {
    let w = world().await;
    let p = w.person(7008).await;
    let guess = AccountLinkToken::generate();
    for uri in [acct(&p), format!("/account/{}", guess.as_str())] {
        let started = Instant::now();
        w.get(&uri).await;
        assert!(started.elapsed() >= Duration::from_millis(200), "{uri}");
        let started = Instant::now();
        w.post(&format!("{uri}/export"), "").await;
        assert!(started.elapsed() >= Duration::from_millis(200), "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_controls_share_the_subscription_pages_rate_limit() {
    let w = world().await;
    let client: std::net::SocketAddr = "192.0.2.9:40000".parse().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let router = w.router.clone();
        let base = format!("/account/{}", AccountLinkToken::generate().as_str());
        let request = match i % 3 {
            0 => Request::post(format!("{base}/export")).body(Body::empty()),
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
    // The subscription page draws from the same bucket.
    let mut request = Request::get("/sub/x").body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(client));
    let response = w.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}
