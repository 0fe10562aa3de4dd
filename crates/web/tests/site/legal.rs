//! The privacy policy and terms: every section, this operator's name and no other, the data
//! inventory, and configured text escaped or marked when unset.

use domain::Language;

use crate::router::{get, router, router_with, settings};

#[tokio::test]
async fn the_privacy_policy_has_every_section_in_both_languages() {
    let en = get(router(), "/privacy?lang=en").await.body;
    for heading in [
        "Privacy Policy",
        "1. General Provisions",
        "2. Personal Data Processed",
        "3. Purposes of Processing",
        "4. Legal Basis",
        "5. Data Collection",
        "6. Storage and Protection",
        "7. Third-Party Sharing",
        "8. Retention Period",
        "9. User Rights",
        "10. Cookies and Analytics",
        "11. Policy Changes",
        "12. Contact Information",
    ] {
        assert!(en.contains(heading), "{heading} missing");
    }
    let ru = get(router(), "/privacy?lang=ru").await.body;
    for heading in [
        "Политика конфиденциальности",
        "1. Общие положения",
        "6. Хранение и защита",
        "9. Права Пользователя",
        "12. Контактная информация",
    ] {
        assert!(ru.contains(heading), "{heading} missing");
    }
}

#[tokio::test]
async fn the_legal_texts_name_this_operator_and_no_other() {
    for path in ["/privacy", "/terms"] {
        for lang in ["ru", "en"] {
            let body = get(router(), &format!("{path}?lang={lang}")).await.body;
            assert!(body.contains("ИП Иванов И. И."), "{path} {lang}");
            assert!(body.contains("<a href=\"mailto:help@nimbus.example\">help@nimbus.example</a>"));
            assert!(body.contains("<a href=\"https://t.me/nimbus_help\">@nimbus_help</a>"));
            if path == "/privacy" {
                assert!(body.contains("<a href=\"https://nimbus.example/\">nimbus.example</a>"));
            }
            let lower = body.to_lowercase();
            for foreign in [
                "millyvpn",
                "millyload",
                "trellaskymilly",
                "millyrellen",
                "{",
            ] {
                assert!(
                    !lower.contains(foreign),
                    "{path} {lang} still says {foreign}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_privacy_policy_shows_the_data_inventory_it_is_given() {
    let entry = web::InventoryEntry {
        data: "Telegram user ID (users.telegram_id)".into(),
        category: "Telegram user ID".into(),
        purpose: "User identification".into(),
        retention: "3 years after the last subscription".into(),
    };
    let site = web::Site::new(settings()).with_data_inventory(|_| vec![entry.clone()]);
    let with = get(web::router(site), "/privacy?lang=en").await.body;
    assert!(with.contains("id=\"data-inventory\""));
    assert!(with.contains("<td>Telegram user ID (users.telegram_id)</td>"));
    let without = get(router(), "/privacy?lang=en").await.body;
    assert!(!without.contains("id=\"data-inventory\""));
}

#[tokio::test]
async fn the_inventory_table_speaks_the_language_of_the_page() {
    let row = |lang: Language| match lang {
        Language::Ru => web::InventoryEntry {
            data: "идентификатор пользователя Telegram (users.telegram_id)".into(),
            category: domain::inventory::Category::TelegramId.label(lang).into(),
            purpose: "Идентификация Пользователя для оказания услуг".into(),
            retention: "до удаления аккаунта".into(),
        },
        Language::En => web::InventoryEntry {
            data: "Telegram user id (users.telegram_id)".into(),
            category: domain::inventory::Category::TelegramId.label(lang).into(),
            purpose: "User identification for service provision".into(),
            retention: "until deletion".into(),
        },
    };
    let site = web::Site::new(settings()).with_data_inventory(|lang| vec![row(lang)]);
    let app = web::router(site);

    let ru = get(app.clone(), "/privacy?lang=ru").await.body;
    assert!(
        ru.contains("<td>Идентификатор пользователя Telegram</td>"),
        "{ru}"
    );
    assert!(ru.contains("<td>до удаления аккаунта</td>"));
    assert!(ru.contains("<th>Категория</th>"));
    assert!(!ru.contains("User identification for service provision"));

    let en = get(app.clone(), "/privacy?lang=en").await.body;
    assert!(en.contains("<td>Telegram user ID</td>"), "{en}");
    assert!(en.contains("<td>until deletion</td>"));
    assert!(!en.contains("Идентификация"));

    // Without a language asked for, the page is Russian, and so is its table.
    let default = get(app, "/privacy").await.body;
    assert!(default.contains("<td>до удаления аккаунта</td>"));
}

#[tokio::test]
async fn configured_text_is_escaped_not_executed() {
    let mut c = settings();
    c.operator = "<script>alert(1)</script>".into();
    let body = get(router_with(c), "/privacy").await.body;
    assert!(!body.contains("<script>"));
    assert!(body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;"));
}

#[tokio::test]
async fn unset_contacts_are_marked_rather_than_left_blank() {
    let body = get(
        router_with(web::SiteSettings::default()),
        "/privacy?lang=en",
    )
    .await
    .body;
    assert!(body.contains("(not specified)"));
    assert!(body.contains("the owner of the milly service"));
}
