//! The website's router with an app whose admin is [`ADMIN`], requests with or without the
//! session cookie, and the sign-in an admin does with the bot's link.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use domain::TelegramId;
use store::testing::TestDb;
use time::OffsetDateTime;

pub use crate::answer::Answer;

pub const ADMIN: i64 = 4_242_000_001;
pub const PUBLIC_URL: &str = "https://panel.example";

pub struct Panel {
    pub router: axum::Router,
    pub app: app::App,
}

/// A signed-in admin: their cookie and the CSRF token their pages carry.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub fn app_settings(admins: Vec<i64>) -> app::AppSettings {
    app::AppSettings {
        service_name: "Nimbus".into(),
        public_url: PUBLIC_URL.parse().unwrap(),
        admins,
        ..app::AppSettings::default()
    }
}

fn site() -> web::Site {
    web::Site::new(web::SiteSettings {
        service_name: "Nimbus".into(),
        public_url: PUBLIC_URL.parse().unwrap(),
        ..web::SiteSettings::default()
    })
}

impl Panel {
    pub fn over(db: &TestDb) -> Panel {
        Panel::with(app::App::new(db.store.clone(), app_settings(vec![ADMIN])))
    }

    pub fn with(app: app::App) -> Panel {
        Panel::serve(app, site())
    }

    /// The panel of a site that can add remote nodes through `registrar`.
    pub fn with_registrar(db: &TestDb, registrar: std::sync::Arc<dyn web::NodeRegistrar>) -> Panel {
        let app = app::App::new(db.store.clone(), app_settings(vec![ADMIN]));
        Panel::serve(app, site().with_node_registrar(registrar))
    }

    fn serve(app: app::App, site: web::Site) -> Panel {
        Panel {
            router: web::router(site.with_app(app.clone())),
            app,
        }
    }

    /// The token of a login link the bot would give `admin` at `at`.
    pub async fn link_at(&self, admin: i64, at: OffsetDateTime) -> String {
        let link = self
            .app
            .issue_admin_login(TelegramId(admin), at)
            .await
            .unwrap();
        let prefix = format!("{PUBLIC_URL}/admin/login?t=");
        assert!(link.url.starts_with(&prefix), "{link:?}");
        link.url[prefix.len()..].to_owned()
    }

    pub async fn link(&self) -> String {
        self.link_at(ADMIN, OffsetDateTime::now_utc()).await
    }

    /// Presses "Sign in" on the page of link `token`.
    pub async fn press_sign_in(&self, token: &str) -> Answer {
        self.post(None, "/admin/login", &format!("t={token}")).await
    }

    /// Signs in with a fresh link, as an admin does, and reads the CSRF token off the dashboard.
    pub async fn sign_in(&self) -> Session {
        let answer = self.press_sign_in(&self.link().await).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.headers[header::LOCATION], "/admin");
        let set = answer.headers[header::SET_COOKIE].to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_owned();
        let dashboard = self.get(Some(&cookie), "/admin").await;
        assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
        let csrf = csrf_of(&dashboard.body);
        Session { cookie, csrf }
    }

    pub async fn get(&self, cookie: Option<&str>, uri: &str) -> Answer {
        let mut request = Request::get(uri).header(header::ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, cookie: Option<&str>, uri: &str, form: &str) -> Answer {
        let mut request =
            Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let answer = crate::answer::send(self.router.clone(), request).await;
        // Every panel answer carries the site's headers and is never cached.
        assert!(answer.headers.contains_key(header::CONTENT_SECURITY_POLICY));
        if answer.status == StatusCode::OK {
            assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
        }
        answer
    }

    /// The audit list's actions, newest first.
    pub async fn audit(&self) -> Vec<(TelegramId, domain::AdminAction, Option<app::AuditTarget>)> {
        self.app
            .audit_entries(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.admin, e.action, e.target))
            .collect()
    }
}

impl Session {
    pub fn cookie(&self) -> Option<&str> {
        Some(&self.cookie)
    }

    /// `csrf=…` plus `rest`.
    pub fn form(&self, rest: &str) -> String {
        if rest.is_empty() {
            format!("csrf={}", self.csrf)
        } else {
            format!("csrf={}&{rest}", self.csrf)
        }
    }
}

/// The CSRF token in a page's forms (every form of a session carries the same one).
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF field") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}
