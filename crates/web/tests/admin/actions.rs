//! What an admin does in the panel, page by page: the dashboard's figures, finding a person by
//! Telegram id or @username, extending, blocking, unblocking, exporting and (after confirming)
//! deleting them, refunding a card payment through YooKassa (the emulator), switching a node
//! off and on; each leaves exactly one audit entry naming the admin, the action and the
//! internal id, which the audit page lists.

use axum::http::{header, StatusCode};
use domain::{AdminAction, PaymentStatus, TelegramId};
use store::testing::TestDb;
use time::OffsetDateTime;

use crate::card_shop::{loopback_is_yookassa, settings, Shop};
use crate::panel::{Panel, ADMIN, PUBLIC_URL};
use app::AuditTarget;

const ME: TelegramId = TelegramId(ADMIN);

async fn an_admin_manages_a_person_and_every_action_is_audited(db: &TestDb) {
    let panel = Panel::over(db);
    let now = OffsetDateTime::now_utc();
    let someone = db
        .store
        .create_user(&store::testing::someone::new_user(now), now)
        .await
        .unwrap();
    let id = someone.id.0;
    let s = panel.sign_in().await;

    let dashboard = panel.get(s.cookie(), "/admin").await;
    assert!(
        dashboard.body.contains("<b>1</b> users"),
        "{}",
        dashboard.body
    );

    // Found by @username (any case) and by Telegram id: both lead to their page.
    let by_name = format!(
        "/admin/users?q=%40{}",
        store::testing::someone::USERNAME.to_uppercase()
    );
    let by_tg = format!("/admin/users?q={}", store::testing::someone::TELEGRAM_ID);
    for uri in [by_name, by_tg] {
        let found = panel.get(s.cookie(), &uri).await;
        assert_eq!(found.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(
            found.headers[header::LOCATION],
            format!("/admin/users/{id}")
        );
    }
    let missing = panel.get(s.cookie(), "/admin/users?q=%40nobody").await;
    assert!(missing.body.contains("Nobody matches"));

    let extend = panel
        .post(
            s.cookie(),
            &format!("/admin/users/{id}/extend"),
            &s.form("days=12"),
        )
        .await;
    assert_eq!(extend.status, StatusCode::SEE_OTHER);
    let page = panel
        .get(s.cookie(), &format!("/admin/users/{id}?done=extended"))
        .await;
    assert!(page.body.contains("Days added."), "{}", page.body);
    assert!(page.body.contains("has access"));
    let sub = db.store.subscription(someone.id).await.unwrap().unwrap();
    // The store keeps whole seconds.
    assert_eq!(
        (sub.ends_at - now + time::Duration::seconds(1)).whole_days(),
        12
    );

    let block = panel
        .post(s.cookie(), &format!("/admin/users/{id}/block"), &s.form(""))
        .await;
    assert_eq!(block.status, StatusCode::SEE_OTHER);
    assert!(db.store.user(someone.id).await.unwrap().unwrap().blocked);
    let unblock = panel
        .post(
            s.cookie(),
            &format!("/admin/users/{id}/unblock"),
            &s.form(""),
        )
        .await;
    assert_eq!(unblock.status, StatusCode::SEE_OTHER);
    assert!(!db.store.user(someone.id).await.unwrap().unwrap().blocked);

    let export = panel
        .post(
            s.cookie(),
            &format!("/admin/users/{id}/export"),
            &s.form(""),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.headers[header::CONTENT_TYPE], "application/json");
    assert!(export.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let document: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert!(document
        .to_string()
        .contains(store::testing::someone::USERNAME));

    // Deleting takes a confirmation: without the box ticked, back to the question.
    let ask = panel
        .get(s.cookie(), &format!("/admin/users/{id}/delete"))
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("name=\"confirm\""));
    let unticked = panel
        .post(
            s.cookie(),
            &format!("/admin/users/{id}/delete"),
            &s.form(""),
        )
        .await;
    assert_eq!(unticked.status, StatusCode::SEE_OTHER);
    assert!(db.store.user(someone.id).await.unwrap().is_some());
    let deleted = panel
        .post(
            s.cookie(),
            &format!("/admin/users/{id}/delete"),
            &s.form("confirm=yes"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(db.store.user(someone.id).await.unwrap().is_none());

    let target = Some(AuditTarget::User(id));
    let audit = panel.audit().await;
    assert_eq!(
        audit,
        vec![
            (ME, AdminAction::DeleteUser, target),
            (ME, AdminAction::ExportUser, target),
            (ME, AdminAction::UnblockUser, target),
            (ME, AdminAction::BlockUser, target),
            (ME, AdminAction::ExtendUser, target),
            (ME, AdminAction::SignIn, None),
        ]
    );
    let page = panel.get(s.cookie(), "/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    for action in [
        "user.delete",
        "user.export",
        "user.unblock",
        "user.block",
        "user.extend",
    ] {
        assert!(page.body.contains(action), "{action}");
    }
    assert!(page.body.contains(&ADMIN.to_string()));
    // The audit list names the person by internal id only.
    for trace in store::testing::someone::traces() {
        assert!(!page.body.contains(&trace), "{trace} on the audit page");
    }
}

async fn an_admin_switches_a_node_off_and_on(db: &TestDb) {
    let panel = Panel::over(db);
    let node = db.tls_node("eu-1", "EU", "eu.example").await;
    let s = panel.sign_in().await;
    let page = panel.get(s.cookie(), "/admin/nodes").await;
    assert!(
        page.body.contains("eu-1") && page.body.contains("eu.example:"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/admin/nodes/eu-1/disable"));
    let off = panel
        .post(s.cookie(), "/admin/nodes/eu-1/disable", &s.form(""))
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let page = panel.get(s.cookie(), "/admin/nodes").await;
    assert!(page.body.contains("disabled"), "{}", page.body);
    assert!(page.body.contains("/admin/nodes/eu-1/enable"));
    let on = panel
        .post(s.cookie(), "/admin/nodes/eu-1/enable", &s.form(""))
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert!(panel.app.node_overview().await.unwrap()[0].record.enabled);
    let missing = panel
        .post(s.cookie(), "/admin/nodes/nope/disable", &s.form(""))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let target = Some(AuditTarget::Node(node.id.0));
    assert_eq!(
        panel.audit().await[..2],
        [
            (ME, AdminAction::EnableNode, target),
            (ME, AdminAction::DisableNode, target),
        ]
    );
}

/// Stands in for `milly`'s registrar (tested there): remembers what the form asked for.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(TelegramId, web::NewNode)>>);

impl web::NodeRegistrar for Recorder {
    fn register(&self, admin: TelegramId, node: web::NewNode) -> web::RegistrarFuture<'_> {
        Box::pin(async move {
            if node.address.is_empty() {
                return Err("`` is not HOST:PORT".to_owned());
            }
            self.0.lock().unwrap().push((admin, node));
            Ok(web::JoinOffer {
                join: "milly-join1.secret-join-string".to_owned(),
                valid_until: OffsetDateTime::now_utc(),
            })
        })
    }
}

async fn an_admin_adds_a_node_and_sees_its_join_string_once(db: &TestDb) {
    let without = Panel::over(db);
    let s = without.sign_in().await;
    let page = without.get(s.cookie(), "/admin/nodes").await;
    assert!(page.body.contains("[control] listen"), "{}", page.body);
    assert!(!page.body.contains("name=\"address\""));

    let recorder = std::sync::Arc::new(Recorder::default());
    let panel = Panel::with_registrar(db, recorder.clone());
    let s = panel.sign_in().await;
    let page = panel.get(s.cookie(), "/admin/nodes").await;
    assert!(page.body.contains("name=\"address\""), "{}", page.body);
    let form = "name=eu-2&address=node.example%3A443&location=Frankfurt";
    let refused = panel.post(s.cookie(), "/admin/nodes", form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(recorder.0.lock().unwrap().is_empty());
    let added = panel.post(s.cookie(), "/admin/nodes", &s.form(form)).await;
    assert_eq!(added.status, StatusCode::OK);
    assert!(
        added.body.contains("milly-join1.secret-join-string"),
        "{}",
        added.body
    );
    assert!(added.body.contains("milly node join"));
    assert_eq!(added.headers[header::CACHE_CONTROL], "no-store");
    let asked = recorder.0.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].0, ME);
    assert_eq!(
        (
            asked[0].1.name.as_str(),
            asked[0].1.address.as_str(),
            asked[0].1.location.as_str()
        ),
        ("eu-2", "node.example:443", "Frankfurt")
    );
    let bad = panel
        .post(s.cookie(), "/admin/nodes", &s.form("name=eu-3&address="))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("is not HOST:PORT"));
}

async fn an_admin_refunds_a_card_payment_from_the_persons_page(db: &TestDb) {
    let shop = Shop::open(db.store.clone(), loopback_is_yookassa()).await;
    let (jay, yk_id) = shop.paid_month(1013).await;
    let ours = shop.ours(&yk_id).await;
    let mut with_admin = settings(&shop.yk.url(), PUBLIC_URL);
    with_admin.admins = vec![ADMIN];
    let panel = Panel::with(app::App::new(db.store.clone(), with_admin));
    let s = panel.sign_in().await;

    let dashboard = panel.get(s.cookie(), "/admin").await;
    assert!(dashboard.body.contains("yookassa"), "{}", dashboard.body);
    let payments = panel.get(s.cookie(), "/admin/payments").await;
    let button = format!("/admin/payments/{}/refund", ours.id.0);
    assert!(payments.body.contains(&button), "{}", payments.body);
    let page = panel
        .get(s.cookie(), &format!("/admin/users/{}", jay.id.0))
        .await;
    assert!(page.body.contains(&button));

    // Without the box ticked nothing moves.
    let unconfirmed = panel.post(s.cookie(), &button, &s.form("")).await;
    assert_eq!(
        unconfirmed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unconfirmed.body
    );
    assert!(shop.yk.refunds().is_empty());
    let refund = panel
        .post(s.cookie(), &button, &s.form("confirm=yes"))
        .await;
    assert_eq!(refund.status, StatusCode::SEE_OTHER, "{}", refund.body);
    assert_eq!(
        refund.headers[header::LOCATION],
        format!("/admin/users/{}?done=refunded", jay.id.0)
    );
    assert_eq!(shop.yk.refunds().len(), 1);
    assert_eq!(shop.ours(&yk_id).await.status, PaymentStatus::Refunded);
    // Pressed again (a second tab): refused, and YooKassa is not asked twice.
    let again = panel
        .post(s.cookie(), &button, &s.form("confirm=yes"))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(shop.yk.refunds().len(), 1);
    assert_eq!(
        panel.audit().await[0],
        (
            ME,
            AdminAction::RefundPayment,
            Some(AuditTarget::Payment(ours.id.0))
        )
    );
}

/// The promo codes page lists each code with its uses (a count, never who used it).
async fn an_admin_sees_each_promo_codes_uses(db: &TestDb) {
    let panel = Panel::over(db);
    let now = OffsetDateTime::now_utc();
    let someone = db
        .store
        .create_user(&store::testing::someone::new_user(now), now)
        .await
        .unwrap();
    let gift = db
        .promo("GIFT5", domain::PromoBenefit::Days(domain::Days(5)), now)
        .await;
    db.promo(
        "HALF",
        domain::PromoBenefit::Percent(domain::Percent::new(50).unwrap()),
        now,
    )
    .await;
    db.store
        .redeem_days(
            gift.id,
            someone.id,
            domain::PlanId("promo".into()),
            domain::Days(5),
            now,
        )
        .await
        .unwrap();
    let s = panel.sign_in().await;
    let page = panel.get(s.cookie(), "/admin/promos").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<code>GIFT5</code>"), "{}", page.body);
    assert!(page.body.contains("5 days"), "{}", page.body);
    assert!(page.body.contains("50% off"), "{}", page.body);
    let gift_row = page.body.lines().find(|l| l.contains("GIFT5")).unwrap();
    assert!(gift_row.contains("<td>1</td>"), "{gift_row}");
    for trace in store::testing::someone::traces() {
        assert!(!page.body.contains(&trace), "{trace} on the promo page");
    }
}

store::backend_tests!(
    an_admin_sees_each_promo_codes_uses,
    an_admin_manages_a_person_and_every_action_is_audited,
    an_admin_switches_a_node_off_and_on,
    an_admin_adds_a_node_and_sees_its_join_string_once,
    an_admin_refunds_a_card_payment_from_the_persons_page,
);
