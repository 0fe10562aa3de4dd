//! The nodes as the admins see them in the bot: `/nodes`, one line per node (online, how far
//! its access table is behind, connections and bytes, all users together), and the words of
//! the alerts [`crate::node_alerts`] sends. In English, like every admin command.

use app::{NodeAlert, NodeAlertKind, NodeOverview};
use time::OffsetDateTime;

use crate::ctx::Ctx;
use crate::texts::escape;
use crate::BotError;

/// `/nodes`: every node in the operator's order.
pub async fn overview(ctx: &Ctx) -> Result<String, BotError> {
    let nodes = ctx.app.node_overview().await?;
    let revision = ctx.app.access_revision().await?;
    if nodes.is_empty() {
        return Ok("No nodes yet: <code>milly node add</code> registers one.".into());
    }
    let mut out = String::from("<b>Nodes</b>\n");
    for node in &nodes {
        out.push_str(&line(node, revision));
        out.push('\n');
    }
    Ok(out)
}

/// `de-1 · 🇩🇪 Frankfurt · online · lag 0 · 12 conns · 3.4 GiB`.
fn line(node: &NodeOverview, revision: i64) -> String {
    let spec = &node.record.spec;
    let state = match (node.record.enabled, node.online) {
        (false, _) => "⏸ disabled",
        (true, None) => "embedded",
        (true, Some(true)) => "🟢 online",
        (true, Some(false)) => "🔴 offline",
    };
    let mut line = format!(
        "<b>{}</b> · {} · {state}",
        escape(&spec.name),
        escape(&spec.location.0)
    );
    if let Some(status) = &node.status {
        let lag = node.revision_lag(revision).unwrap_or(0);
        line.push_str(&format!(
            " · lag {lag} · {} conns · {}",
            status.connections,
            bytes(status.bytes_up.saturating_add(status.bytes_down))
        ));
    } else if node.online.is_some() {
        line.push_str(" · never reported");
    }
    line
}

/// Bytes in the binary unit that keeps the number short.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The admins' message for one alert (HTML).
pub fn alert(alert: &NodeAlert) -> String {
    let node = format!(
        "<b>{}</b> ({})",
        escape(&alert.name),
        escape(&alert.location.0)
    );
    match alert.kind {
        NodeAlertKind::Offline { last_seen_at } => format!(
            "🔴 Node {node} is offline: no report since {}.",
            utc(last_seen_at)
        ),
        NodeAlertKind::BackOnline => format!("🟢 Node {node} is back online."),
        NodeAlertKind::Behind { lag } => format!(
            "⚠️ Node {node} is behind: {lag} access revisions not applied for over {} minutes. \
             Blocks and expiries may not reach it.",
            app::BEHIND_ALERT_AFTER.whole_minutes()
        ),
        NodeAlertKind::CaughtUp => format!("✅ Node {node} has caught up with the access feed."),
    }
}

fn utc(at: OffsetDateTime) -> String {
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_the_unit_that_keeps_them_short() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(bytes(u64::MAX), "16384.0 PiB");
    }
}
