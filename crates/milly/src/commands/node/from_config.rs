//! `[nodes.NAME]` sections of milly.toml, applied to the registered remote nodes when `milly
//! serve` starts: for the keys a section names the file wins (and `milly node set` refuses
//! them), the others stay as `milly node add` and `set` made them. A section cannot create a
//! node (that takes a join string): one naming no registered node is reported and skipped, so
//! removing a node never stops the service from starting.

use anyhow::Result;
use app::{App, AppError};

use super::change::{self, NodeChanges};

pub async fn apply(app: &App, config: &config::Config) -> Result<()> {
    for (name, section) in &config.nodes {
        let changes = NodeChanges::from_section(section);
        match change::apply(app, name, &changes).await {
            Ok(true) => println!(
                "nodes: {name} now has its {} from milly.toml",
                section.named_keys().join(", ")
            ),
            Ok(false) => {}
            Err(e)
                if matches!(
                    e.downcast_ref::<AppError>(),
                    Some(AppError::NodeNotFound(_))
                ) =>
            {
                if *name == config.node.name {
                    println!(
                        "nodes: warning: milly.toml has [nodes.{name}], but `{name}` is the \
                         embedded node: its settings are under [node] (the section is skipped)"
                    );
                } else {
                    println!(
                        "nodes: warning: milly.toml has [nodes.{name}] but no remote node is \
                         called `{name}`; register it with `milly node add {name} --address \
                         HOST:PORT` (the section is skipped until then)"
                    );
                }
                tracing::warn!("milly.toml names a remote node that is not registered");
            }
            Err(e) => return Err(e.context(format!("cannot apply milly.toml [nodes.{name}]"))),
        }
    }
    Ok(())
}

/// Refuses a `node set`, `enable` or `disable` of a key the node's `[nodes.NAME]` section
/// names: it would be undone at the next `milly serve` start.
pub fn refuse_file_keys(config: &config::Config, name: &str, keys: &[&str]) -> Result<()> {
    let Some(section) = config.nodes.get(name) else {
        return Ok(());
    };
    let named = section.named_keys();
    for key in keys {
        if named.contains(key) {
            anyhow::bail!(
                "{name}'s {key} is set in milly.toml ([nodes.{name}] {key}), which wins at every \
                 `milly serve` start: change it there"
            );
        }
    }
    Ok(())
}
