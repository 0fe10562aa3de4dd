//! The access feed: polls the access revision (through `app`) and pushes a snapshot, then
//! changes, into the node's table. The node never touches the database; a remote node will get
//! the same updates over the network.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the store is polled: well inside the 1 s within which a block must take effect.
const POLL: Duration = Duration::from_millis(200);

pub async fn run(
    app: app::App,
    table: node::AccessTable,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut revision: Option<i64> = None;
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = ticker.tick() => {}
        }
        let result = match revision {
            None => read_snapshot(&app).await.map(|(at, snapshot)| {
                revision = Some(at);
                table.install(at as u64, snapshot);
            }),
            Some(since) => app
                .access_changes_since(since, SNAPSHOT_PAGE)
                .await
                .map(|changes| match changes {
                    Some(ch) if ch.revision > since => {
                        revision = Some(ch.revision);
                        table.apply(changes_update(ch));
                    }
                    Some(_) => {}
                    // The store cannot tell what changed: start over from a snapshot.
                    None => revision = None,
                }),
        };
        if let Err(e) = result {
            // The node keeps its last table; expiry is still enforced by the node itself.
            tracing::warn!(error = %e, "access feed: cannot read the store, retrying");
        }
    }
}

fn entry(e: app::AccessRow) -> node::AccessEntry {
    node::AccessEntry {
        key: vless::UserKey(*e.vless_uuid.as_bytes()),
        expires_at: e.expires_at.unix_timestamp(),
    }
}

/// Rows read from the store at a time while filling a new table; more changes than this at
/// once are read as a new table too, so memory never holds more than a page of rows.
const SNAPSHOT_PAGE: usize = 8192;

/// The whole table at one revision, read a page at a time straight into a new table (never a
/// list of every user beside it).
async fn read_snapshot(app: &app::App) -> Result<(i64, node::TableBuilder), app::AppError> {
    let mut pages = app.access_snapshot_pages().await?;
    let mut snapshot = node::TableBuilder::new();
    loop {
        let page = pages.next_page(SNAPSHOT_PAGE).await?;
        if page.is_empty() {
            return Ok((pages.revision(), snapshot));
        }
        for row in page {
            snapshot.insert(entry(row));
        }
    }
}

fn changes_update(ch: app::AccessChanges) -> node::AccessUpdate {
    node::AccessUpdate::Changes {
        revision: ch.revision as u64,
        upserts: ch.upserts.into_iter().map(entry).collect(),
        revoked: ch
            .revoked
            .iter()
            .map(|u| vless::UserKey(*u.as_bytes()))
            .collect(),
    }
}
