//! Signing in: the link's page spends nothing, its button opens a session with a locked-down
//! cookie, and stale, used, unknown and non-admin links are refused without a cookie.

use axum::http::{header, StatusCode};
use domain::{AdminAction, TelegramId};
use store::testing::TestDb;
use time::{Duration, OffsetDateTime};

use crate::panel::{app_settings, Panel, ADMIN};

async fn an_admin_signs_in_with_the_bots_link_and_signs_out(db: &TestDb) {
    let panel = Panel::over(db);
    let token = panel.link().await;
    // A link preview (or the admin opening the link) only shows the button.
    for _ in 0..2 {
        let page = panel.get(None, &format!("/admin/login?t={token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Sign in"), "{}", page.body);
        assert!(!page.headers.contains_key(header::SET_COOKIE));
    }
    let answer = panel.press_sign_in(&token).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("{}=", web::ADMIN_COOKIE)),
        "{cookie}"
    );
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let dashboard = panel.get(Some(&cookie), "/admin").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("Sign out"));
    // The link worked once.
    let again = panel.press_sign_in(&token).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(!again.headers.contains_key(header::SET_COOKIE));

    let csrf = crate::panel::csrf_of(&dashboard.body);
    let out = panel
        .post(Some(&cookie), "/admin/logout", &format!("csrf={csrf}"))
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = panel.get(Some(&cookie), "/admin").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.headers[header::LOCATION], "/admin/sign-in");
    let actions: Vec<AdminAction> = panel.audit().await.into_iter().map(|a| a.1).collect();
    assert_eq!(actions, vec![AdminAction::SignOut, AdminAction::SignIn]);
}

async fn stale_used_unknown_and_malformed_links_are_refused_without_a_cookie(db: &TestDb) {
    let panel = Panel::over(db);
    let eleven_minutes_ago = OffsetDateTime::now_utc() - Duration::minutes(11);
    let stale = panel.link_at(ADMIN, eleven_minutes_ago).await;
    let used = panel.link().await;
    panel.sign_in_with(&used).await;
    let unknown = domain::AdminToken::generate();
    for token in [
        stale.as_str(),
        used.as_str(),
        unknown.as_str(),
        "",
        "%2E%2E",
    ] {
        let answer = panel.press_sign_in(token).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{token}");
        assert!(!answer.headers.contains_key(header::SET_COOKIE), "{token}");
        assert!(answer.body.contains("/admin"), "says how to get a new link");
    }
}

async fn a_non_admin_gets_no_link_and_a_removed_admin_is_refused(db: &TestDb) {
    let panel = Panel::over(db);
    let stranger = panel
        .app
        .issue_admin_login(TelegramId(5), OffsetDateTime::now_utc())
        .await;
    assert!(matches!(stranger, Err(app::AppError::NotAdmin)));
    // A link and a session of an admin the operator then removes from `[telegram] admins`.
    let token = panel.link().await;
    let session = panel.sign_in().await;
    let demoted = Panel::with(app::App::new(db.store.clone(), app_settings(vec![])));
    let answer = demoted.press_sign_in(&token).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!answer.headers.contains_key(header::SET_COOKIE));
    let page = demoted.get(session.cookie(), "/admin").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/admin/sign-in");
}

async fn without_a_session_every_page_leads_to_how_to_sign_in(db: &TestDb) {
    let panel = Panel::over(db);
    let user = db.user(77, OffsetDateTime::now_utc()).await;
    let pages = [
        "/admin".to_owned(),
        "/admin/users?q=77".to_owned(),
        format!("/admin/users/{}", user.id.0),
        "/admin/payments".to_owned(),
        "/admin/nodes".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/promos".to_owned(),
        "/admin/broadcasts".to_owned(),
        "/admin/broadcasts/1".to_owned(),
    ];
    for uri in &pages {
        for cookie in [None, Some("milly_admin=forged"), Some("milly_admin=")] {
            let answer = panel.get(cookie, uri).await;
            assert_eq!(answer.status, StatusCode::SEE_OTHER, "{uri}");
            assert_eq!(answer.headers[header::LOCATION], "/admin/sign-in");
        }
    }
    let block = format!("/admin/users/{}/block", user.id.0);
    let answer = panel.post(None, &block, "csrf=x").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let help = panel.get(None, "/admin/sign-in").await;
    assert_eq!(help.status, StatusCode::OK);
    assert!(help.body.contains("/admin"));
    assert!(
        !help.body.contains("Dashboard"),
        "no navigation without a session"
    );
    assert!(!db.store.user(user.id).await.unwrap().unwrap().blocked);
}

async fn a_sign_in_form_another_site_sent_is_refused(db: &TestDb) {
    let panel = Panel::over(db);
    let token = panel.link().await;
    let request = axum::http::Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from(format!("t={token}")))
        .unwrap();
    let answer = crate::answer::send(panel.router.clone(), request).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!answer.headers.contains_key(header::SET_COOKIE));
    // The link was not spent by it.
    panel.sign_in_with(&token).await;
}

impl Panel {
    async fn sign_in_with(&self, token: &str) {
        let answer = self.press_sign_in(token).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
    }
}

store::backend_tests!(
    an_admin_signs_in_with_the_bots_link_and_signs_out,
    stale_used_unknown_and_malformed_links_are_refused_without_a_cookie,
    a_non_admin_gets_no_link_and_a_removed_admin_is_refused,
    without_a_session_every_page_leads_to_how_to_sign_in,
    a_sign_in_form_another_site_sent_is_refused,
);
