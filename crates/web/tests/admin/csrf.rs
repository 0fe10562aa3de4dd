//! Every panel form needs its session's CSRF token: without it, with a wrong one or with
//! another session's, the answer is 403 and nothing changes, not even the audit list.

use axum::http::StatusCode;
use store::testing::TestDb;
use time::OffsetDateTime;

use crate::panel::Panel;

async fn forms_without_their_csrf_token_change_nothing(db: &TestDb) {
    let panel = Panel::over(db);
    let now = OffsetDateTime::now_utc();
    let user = db.subscriber(31, "month", 30, now).await;
    let ends = db
        .store
        .subscription(user.id)
        .await
        .unwrap()
        .unwrap()
        .ends_at;
    db.tls_node("eu-1", "EU", "eu.example").await;
    let mine = panel.sign_in().await;
    let other = panel.sign_in().await;
    let audit_before = panel.audit().await.len();
    let id = user.id.0;
    let forms = [
        (format!("/admin/users/{id}/extend"), "days=30"),
        (format!("/admin/users/{id}/block"), ""),
        (format!("/admin/users/{id}/export"), ""),
        (format!("/admin/users/{id}/delete"), "confirm=yes"),
        ("/admin/nodes/eu-1/disable".to_owned(), ""),
        ("/admin/logout".to_owned(), ""),
    ];
    for (uri, rest) in &forms {
        let wrong = [
            rest.to_string(),
            format!("csrf=&{rest}"),
            format!("csrf=0000&{rest}"),
            format!("csrf={}&{rest}", other.csrf),
            format!("csrf={}x&{rest}", mine.csrf),
        ];
        for form in wrong {
            let answer = panel.post(mine.cookie(), uri, &form).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri} with {form}");
        }
    }
    let after = db.store.user(user.id).await.unwrap().expect("not deleted");
    assert!(!after.blocked);
    let sub = db.store.subscription(user.id).await.unwrap().unwrap();
    assert_eq!(sub.ends_at, ends, "not extended");
    let nodes = panel.app.node_overview().await.unwrap();
    assert!(nodes.iter().all(|n| n.record.enabled));
    assert_eq!(panel.audit().await.len(), audit_before);
    // Still signed in: the refused sign-out did not happen.
    assert_eq!(
        panel.get(mine.cookie(), "/admin").await.status,
        StatusCode::OK
    );
}

store::backend_tests!(forms_without_their_csrf_token_change_nothing);
