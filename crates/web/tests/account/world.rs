//! A store, the website's router over it, and people with a month of access, an email and a
//! support ticket, each with the account link the bot would have given them.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use domain::{SubscriptionToken, UserId};
use store::testing::TestDb;
use time::OffsetDateTime;

pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const SUPPORT_TEXT: &str = "my router shows error 7";

pub struct World {
    db: TestDb,
    pub router: axum::Router,
    pub store: store::Store,
    pub app: app::App,
}

pub struct Person {
    pub id: UserId,
    pub token: SubscriptionToken,
    /// The token of the account link the bot would have given.
    pub link: String,
}

pub use crate::answer::Answer;

pub async fn world() -> World {
    let db = TestDb::sqlite().await;
    let public_url: domain::PublicUrl = "https://nimbus.example".parse().unwrap();
    let store = db.store.clone();
    let app = app::App::new(
        store.clone(),
        app::AppSettings {
            service_name: "Nimbus".into(),
            public_url: public_url.clone(),
            ..app::AppSettings::default()
        },
    );
    let site = web::Site::new(web::SiteSettings {
        service_name: "Nimbus".into(),
        public_url,
        ..web::SiteSettings::default()
    });
    let router = web::router(site.with_app(app.clone()));
    World {
        db,
        router,
        store,
        app,
    }
}

impl World {
    /// A person with a month of access, an email and a support ticket.
    pub async fn person(&self, telegram_id: i64) -> Person {
        let now = OffsetDateTime::now_utc();
        let user = self.db.subscriber(telegram_id, "month", 30, now).await;
        let email = "first@mail.example".parse().unwrap();
        self.store.set_email(user.id, Some(&email)).await.unwrap();
        self.store
            .open_ticket(user.id, SUPPORT_TEXT, now)
            .await
            .unwrap();
        Person {
            id: user.id,
            token: self.db.sub_token(user.id).await,
            link: self.new_link(user.id).await,
        }
    }

    /// A fresh account link for `id`, as the bot asks for one; returns its token.
    pub async fn new_link(&self, id: UserId) -> String {
        let link = self
            .app
            .issue_account_link(id, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let prefix = "https://nimbus.example/account/";
        assert!(link.url.starts_with(prefix), "{link:?}");
        link.url[prefix.len()..].to_owned()
    }

    pub async fn email_of(&self, p: &Person) -> Option<String> {
        let user = self.store.user(p.id).await.unwrap().unwrap();
        user.email.map(|e| e.as_str().to_owned())
    }

    pub async fn get(&self, uri: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::USER_AGENT, FIREFOX)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    pub async fn post(&self, uri: &str, form: &str) -> Answer {
        self.post_from(uri, form, &[]).await
    }

    /// A form post carrying the given browser headers (`Origin`, `Sec-Fetch-Site`, `Host`).
    pub async fn post_from(&self, uri: &str, form: &str, extra: &[(&str, &str)]) -> Answer {
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
        let answer = crate::answer::send(self.router.clone(), request).await;
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

    pub fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }
}

pub fn sub(p: &Person) -> String {
    format!("/sub/{}", p.token.as_str())
}

pub fn acct(p: &Person) -> String {
    format!("/account/{}", p.link)
}

/// What an unknown, replaced or expired account link is answered with.
pub fn assert_expired(answer: &Answer) {
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
