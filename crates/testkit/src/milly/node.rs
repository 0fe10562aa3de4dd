//! A milly installation serving, and its users as the node learns of them: through the access
//! feed, a moment after `milly user add` returns, without a restart.

use std::time::Duration;

use client::ClientLink;

use super::{wait_admitted, MillyError, MillyHome};
use crate::echo::TcpEcho;
use crate::process::Process;

/// A new user must be able to connect this soon after `milly user add` returns.
pub const ADMIT_DEADLINE: Duration = Duration::from_secs(1);

/// `milly serve` on a [`MillyHome`]; killed when dropped.
pub struct Node {
    pub home: MillyHome,
    pub serve: Process,
}

impl Node {
    /// A home with `extra` appended to its config, serving.
    pub async fn start(extra: &str) -> Result<Node, MillyError> {
        let home = MillyHome::new(extra)?;
        let serve = home.serve().await?;
        Ok(Node { home, serve })
    }

    /// `milly user add` for `telegram_id` (30 days), once the node admits the user, which
    /// must take less than [`ADMIT_DEADLINE`].
    pub async fn add_user(&self, telegram_id: i64) -> Result<ClientLink, MillyError> {
        let link = self.home.add_user(telegram_id, 30)?;
        let took = wait_admitted(self.home.node_addr(), &link, ADMIT_DEADLINE).await?;
        if took >= ADMIT_DEADLINE {
            return Err(MillyError::NotAdmitted(ADMIT_DEADLINE));
        }
        Ok(link)
    }

    /// Fails the test if milly's output names the link's user or the echo's address: a node
    /// never writes down who connected where.
    pub fn assert_no_connection_details(&self, link: &ClientLink, echo: &TcpEcho) {
        let log = self.serve.log();
        assert!(
            !log.contains(&crate::user_uuid(link)),
            "milly's output names a user id"
        );
        assert!(
            !log.contains(&echo.addr().to_string()),
            "milly's output names a destination"
        );
    }
}
