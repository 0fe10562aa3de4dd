//! `milly privacy ...`: the data inventory as a table, and the retention purge by hand (counts
//! only, never who).

use anyhow::Result;
use domain::inventory::{ENTRIES, NOT_PERSONAL};
use domain::Language;
use time::OffsetDateTime;

use crate::cli::PrivacyCommand;

/// The operator's table is in English, like the rest of the command line.
const EN: Language = Language::En;

pub async fn run(config: &config::Config, cmd: PrivacyCommand) -> Result<()> {
    match cmd {
        PrivacyCommand::Inventory => {
            print!("{}", inventory_table(config.privacy.retention_days));
            Ok(())
        }
        PrivacyCommand::Purge { dry_run } => {
            crate::data_dir::ensure(&config.service.data_dir)?;
            let store = store::Store::connect(config.database.url.expose()).await?;
            let app = app::App::new(store, crate::settings::app(config));
            let r = app
                .purge_expired(OffsetDateTime::now_utc(), dry_run)
                .await?;
            let verb = if dry_run { "would erase" } else { "erased" };
            println!("people {verb}: {}", r.people);
            println!("support tickets {verb}: {}", r.support_tickets);
            println!("bot update ids {verb}: {}", r.bot_updates);
            println!("revoked access ids {verb}: {}", r.access_tombstones);
            println!("expired account links {verb}: {}", r.account_links);
            println!(
                "expired admin login links and sessions {verb}: {}",
                r.admin_sign_ins
            );
            println!("admin audit entries {verb}: {}", r.audit_entries);
            println!("ended website sessions {verb}: {}", r.web_sessions);
            println!("unredeemed gift codes {verb}: {}", r.gift_codes);
            app.close().await;
            Ok(())
        }
    }
}

/// Every stored column: personal ones with category, policy clause, purposes and retention,
/// then the others with why they are not personal data.
fn inventory_table(retention_days: u32) -> String {
    let mut out = String::from("PERSONAL DATA\n");
    out.push_str(&format!(
        "{:<34} {:<30} {:<7} {:<40} {}\n",
        "COLUMN", "CATEGORY", "POLICY", "PURPOSES", "RETENTION"
    ));
    for e in ENTRIES {
        let purposes: Vec<&str> = e.purposes.iter().map(|p| p.label(EN)).collect();
        out.push_str(&format!(
            "{:<34} {:<30} {:<7} {:<40} {}\n",
            format!("{}.{}", e.table, e.column),
            short(e.category.label(EN), 30),
            e.category.clause(),
            purposes.join("; "),
            e.retention.describe(EN, retention_days),
        ));
    }
    out.push_str("\nNOT PERSONAL DATA\n");
    for n in NOT_PERSONAL {
        out.push_str(&format!(
            "{:<34} {}\n",
            format!("{}.{}", n.table, n.column),
            n.why
        ));
    }
    out
}

/// `text` cut at a word boundary before `width` characters.
fn short(text: &str, width: usize) -> &str {
    match text.split_once(" (") {
        Some((head, _)) if head.chars().count() <= width => head,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_declared_column_once() {
        let table = inventory_table(1095);
        // A row starts with its column ("stars_subscriptions.user_id" is not a second
        // "subscriptions.user_id").
        let rows = |key: &str| table.lines().filter(|l| l.starts_with(key)).count();
        for e in ENTRIES {
            let key = format!("{}.{} ", e.table, e.column);
            assert_eq!(rows(&key), 1, "{key}");
        }
        for n in NOT_PERSONAL {
            let key = format!("{}.{} ", n.table, n.column);
            assert_eq!(rows(&key), 1, "{key}");
        }
        assert!(table.contains("1095 days"));
    }
}
