//! Broadcasts in the panel: the compose page, a preview and a broadcast recorded as jobs for
//! the bot (with their audit entries), the progress page refreshing itself until the job is
//! done, and refusals: empty text, an unknown audience, no CSRF token.

use axum::http::{header, StatusCode};
use domain::{AdminAction, BroadcastAudience};
use store::testing::TestDb;
use time::OffsetDateTime;

use crate::panel::Panel;

async fn an_admin_previews_and_sends_a_broadcast_and_watches_it_finish(db: &TestDb) {
    let panel = Panel::over(db);
    let now = OffsetDateTime::now_utc();
    db.subscriber(51, "month", 30, now).await;
    db.user(52, now).await;
    let s = panel.sign_in().await;
    let page = panel.get(s.cookie(), "/admin/broadcasts").await;
    assert_eq!(page.status, StatusCode::OK);
    for audience in ["all", "active", "expired", "never_paid"] {
        assert!(
            page.body.contains(&format!("value=\"{audience}\"")),
            "{audience}"
        );
    }

    let preview = panel
        .post(
            s.cookie(),
            "/admin/broadcasts",
            &s.form("text=Hello+there&audience=all&action=preview"),
        )
        .await;
    assert_eq!(preview.status, StatusCode::SEE_OTHER);
    let send = panel
        .post(
            s.cookie(),
            "/admin/broadcasts",
            &s.form("text=Hello+there&audience=active&action=send"),
        )
        .await;
    assert_eq!(send.status, StatusCode::SEE_OTHER);
    let progress_uri = send.headers[header::LOCATION].to_str().unwrap().to_owned();
    let jobs = panel.app.recent_broadcasts(10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].audience, BroadcastAudience::Active);
    assert_eq!(jobs[0].recipients, 1);
    assert_eq!(jobs[1].audience, BroadcastAudience::Preview);
    assert_eq!(progress_uri, format!("/admin/broadcasts/{}", jobs[0].id));

    let running = panel.get(s.cookie(), &progress_uri).await;
    assert!(
        running.body.contains("http-equiv=\"refresh\""),
        "{}",
        running.body
    );
    assert!(
        running.body.contains("<b>1</b> remaining"),
        "{}",
        running.body
    );
    // The bot sends it (as its leader does) ...
    while panel
        .app
        .claim_broadcast_recipient(jobs[0].id, now)
        .await
        .unwrap()
        .is_some()
    {
        panel
            .app
            .count_broadcast_message(jobs[0].id, true)
            .await
            .unwrap();
    }
    // ... and the page stops refreshing.
    let done = panel.get(s.cookie(), &progress_uri).await;
    assert!(
        !done.body.contains("http-equiv=\"refresh\""),
        "{}",
        done.body
    );
    assert!(done.body.contains("<b>1</b> sent") && done.body.contains("<b>0</b> remaining"));

    let actions: Vec<AdminAction> = panel.audit().await.into_iter().map(|a| a.1).collect();
    assert_eq!(
        actions[..2],
        [AdminAction::SendBroadcast, AdminAction::PreviewBroadcast]
    );

    for form in [
        s.form("text=&audience=all&action=send"),
        s.form("text=Hi&audience=preview&action=send"),
        s.form("text=Hi&audience=everyone&action=send"),
        "text=Hi&audience=all&action=send".to_owned(),
    ] {
        let refused = panel.post(s.cookie(), "/admin/broadcasts", &form).await;
        assert!(
            refused.status.is_client_error(),
            "{form}: {}",
            refused.status
        );
    }
    assert_eq!(panel.app.recent_broadcasts(10).await.unwrap().len(), 2);
}

store::backend_tests!(an_admin_previews_and_sends_a_broadcast_and_watches_it_finish);
