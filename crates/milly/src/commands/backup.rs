//! `milly backup ...`: an encrypted snapshot of the store now, and restoring one into an empty
//! database.

use anyhow::{Context as _, Result};

use crate::cli::BackupCommand;

pub async fn run(config: &config::Config, cmd: BackupCommand) -> Result<()> {
    crate::data_dir::ensure(&config.service.data_dir)?;
    // Opened without registering the embedded node: a restore target must stay empty.
    let store = store::Store::connect(config.database.url.expose()).await?;
    let outcome = match cmd {
        BackupCommand::Create { out } => {
            let app = app::App::new(store.clone(), crate::settings::app(config));
            let summary = app
                .create_backup(out.as_deref())
                .await
                .context("backup failed")?;
            println!(
                "backup written: {} ({} bytes, {} tables, {} rows, encrypted to {} recipient(s))",
                summary.path.display(),
                summary.bytes,
                summary.tables,
                summary.rows,
                config.backup.recipients.len()
            );
            if out.is_none() {
                let dir = app.backup_dir();
                let keep = config.backup.keep as usize;
                let deleted = app::backup::rotate(
                    &dir,
                    keep,
                    app.backup_window(),
                    std::time::SystemTime::now(),
                )?;
                if deleted > 0 {
                    println!("old backups deleted: {deleted}");
                }
            }
            Ok(())
        }
        BackupCommand::Restore { file, identity } => {
            let rows = app::backup::restore_backup(&store, &file, &identity)
                .await
                .context("restore failed")?;
            println!("restored {rows} rows into the {} store", store.backend());
            Ok(())
        }
    };
    store.close().await;
    outcome
}
