//! `milly promo add|list|disable` with the real binary, on SQLite and PostgreSQL: the flags as
//! documented, what is refused (no benefit, both, 100%, a plan not configured, a bad date), and
//! the list showing each code's limits, state and uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::milly::cli::{ok, run};

fn promo_commands(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = Vec::new();
    if let Some(url) = database_url {
        env.push(("MILLY_DATABASE__URL", url));
    }
    let d = dir.path();

    let help = ok(d, &["promo", "add", "--help"], &env);
    for flag in [
        "--days",
        "--percent",
        "--plan",
        "--uses",
        "--until",
        "YYYY-MM-DD",
        "UTC",
    ] {
        assert!(help.contains(flag), "{flag} in:\n{help}");
    }

    let added = ok(
        d,
        &[
            "promo",
            "add",
            "spring-25",
            "--percent",
            "25",
            "--plan",
            "month",
            "--uses",
            "100",
            "--until",
            "2099-03-31",
        ],
        &env,
    );
    assert!(
        added.contains("added promo code SPRING-25: 25% off"),
        "{added}"
    );
    assert!(
        added.contains("plan month only") && added.contains("100 uses"),
        "{added}"
    );
    assert!(
        added.contains("2099-03-31T23:59:59Z"),
        "end of that day, UTC: {added}"
    );
    ok(d, &["promo", "add", "WELCOME", "--days", "7"], &env);

    for (args, says) in [
        (vec!["promo", "add", "NONE"], "--days"),
        (
            vec!["promo", "add", "BOTH", "--days", "3", "--percent", "5"],
            "cannot be used with",
        ),
        (
            vec!["promo", "add", "FREE", "--percent", "100"],
            "--days instead",
        ),
        (vec!["promo", "add", "ZERO", "--days", "0"], "between 1 and"),
        (
            vec![
                "promo", "add", "PLANLESS", "--days", "3", "--plan", "decade",
            ],
            "decade",
        ),
        (
            vec![
                "promo",
                "add",
                "WHEN",
                "--days",
                "3",
                "--until",
                "31.03.2099",
            ],
            "YYYY-MM-DD",
        ),
        (
            vec![
                "promo",
                "add",
                "PAST",
                "--days",
                "3",
                "--until",
                "2001-01-01",
            ],
            "in the past",
        ),
        (vec!["promo", "add", "no spaces", "--days", "3"], "letters"),
        (
            vec!["promo", "add", "welcome", "--days", "3"],
            "already exists",
        ),
        (vec!["promo", "disable", "NOPE-1"], "no promo code NOPE-1"),
    ] {
        let r = run(d, &args, &env);
        assert_ne!(r.status, 0, "{args:?} was accepted");
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }

    let disabled = ok(d, &["promo", "disable", "welcome"], &env);
    assert!(disabled.contains("WELCOME disabled"), "{disabled}");
    let list = ok(d, &["promo", "list"], &env);
    let spring = list.lines().find(|l| l.starts_with("SPRING-25")).unwrap();
    assert!(
        spring.contains("25% off") && spring.contains("month"),
        "{spring}"
    );
    assert!(
        spring.contains("0/100") && spring.ends_with("on"),
        "{spring}"
    );
    let welcome = list.lines().find(|l| l.starts_with("WELCOME")).unwrap();
    assert!(
        welcome.contains("7 days") && welcome.contains("any"),
        "{welcome}"
    );
    assert!(welcome.trim_end().ends_with("disabled"), "{welcome}");
    assert_eq!(list.lines().count(), 3, "a header and two codes:\n{list}");
}

#[test]
fn sqlite_promo_add_list_disable() {
    promo_commands(None);
}

#[tokio::test]
async fn postgres_promo_add_list_disable() {
    let Some(db) = store::testing::TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || promo_commands(Some(url)))
        .await
        .unwrap();
    drop(db);
}
