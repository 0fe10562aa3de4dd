//! Broadcasts in the panel: the compose page, a preview and a broadcast recorded as jobs for
//! the bot (with their audit entries), the progress page refreshing itself until the job is
//! done (delivered / blocked the bot / other failures), "expired in the last N days" with its N,
//! and refusals: empty text, an unknown audience, N out of 1..=365, no CSRF token.

use axum::http::{header, StatusCode};
use domain::{AdminAction, BroadcastAudience, BroadcastOutcome};
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
    for audience in [
        "all",
        "active",
        "expired",
        "expired_within",
        "trial_only",
        "never_paid",
    ] {
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
            .count_broadcast_message(jobs[0].id, BroadcastOutcome::Delivered)
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
    assert!(
        done.body.contains("<b>1</b> delivered")
            && done.body.contains("<b>0</b> blocked the bot")
            && done.body.contains("<b>0</b> other failures")
            && done.body.contains("<b>0</b> remaining"),
        "{}",
        done.body
    );

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
        s.form("text=Hi&audience=expired_within&days=&action=send"),
        s.form("text=Hi&audience=expired_within&days=0&action=send"),
        s.form("text=Hi&audience=expired_within&days=366&action=send"),
    ] {
        let refused = panel.post(s.cookie(), "/admin/broadcasts", &form).await;
        assert!(
            refused.status.is_client_error(),
            "{form}: {}",
            refused.status
        );
    }
    assert_eq!(panel.app.recent_broadcasts(10).await.unwrap().len(), 2);

    let window = panel
        .post(
            s.cookie(),
            "/admin/broadcasts",
            &s.form("text=Come+back&audience=expired_within&days=14&action=send"),
        )
        .await;
    assert_eq!(window.status, StatusCode::SEE_OTHER);
    let job = &panel.app.recent_broadcasts(1).await.unwrap()[0];
    assert_eq!(
        job.audience,
        BroadcastAudience::from_parts("expired_within", Some(14)).unwrap()
    );
    let page = panel.get(s.cookie(), "/admin/broadcasts").await;
    assert!(
        page.body.contains("expired in the last 14 days"),
        "{}",
        page.body
    );
}

store::backend_tests!(an_admin_previews_and_sends_a_broadcast_and_watches_it_finish);
