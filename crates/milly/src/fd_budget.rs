//! The process's file descriptors, shared by the node, the website, the bot and the database:
//! at start `milly serve` raises RLIMIT_NOFILE to its hard limit, then splits it so a flood on
//! the node can never take the descriptors the rest of the service needs (docs/limits.md).

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept for everything that is not a node or website connection: the database
/// pool, the bot's and the feed's connections, log and data files, epoll, stdio.
pub const RESERVE: u64 = 256;
/// A node connection's descriptors beside pipes: the client, its destination, and room for one
/// more outbound socket (Mux sessions beyond a connection's first).
pub const PER_CONNECTION: u64 = 3;
/// Descriptors of one pipe for Vision's direct copy (a read and a write end).
pub const PER_PIPE: u64 = 2;
/// The website gets this fraction (1/n) of what is left after the reserve.
pub const WEBSITE_SHARE: u64 = 8;
/// Pipes get this fraction (1/n) of the node's share; a relay without one copies through its
/// buffer, so pipes can never take descriptors meant for connections.
pub const PIPE_SHARE: u64 = 4;
/// One user may hold at most this fraction (1/n) of the node's outbound sockets.
pub const USER_SHARE: usize = 8;
/// One client address may hold at most this fraction (1/n) of the node's connections.
pub const SOURCE_SHARE: usize = 4;
/// Taken as the limit when the system reports none (RLIM_INFINITY).
const UNLIMITED: u64 = 1 << 20;

/// How a descriptor limit is shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// RLIMIT_NOFILE after raising it.
    pub limit: u64,
    /// Most simultaneous node connections (`[node] max_connections` at most this).
    pub node_connections: usize,
    /// Most outbound sockets of the node, all users together.
    pub node_sockets: usize,
    /// Most pipes for Vision's direct copy, node-wide.
    pub node_pipes: usize,
    /// Most outbound sockets of one user (`[node] max_sockets_per_user` at most this).
    pub user_sockets: usize,
    /// Most connections from one address (`[node] max_connections_per_source` at most this).
    pub source_connections: usize,
    /// Connections the website can be given.
    pub web_connections: usize,
    /// Descriptors left for the database, the bot, the feed and files.
    pub reserve: u64,
}

/// Splits `limit` descriptors. Pipes get their own part of the node's share; the rest holds the
/// worst case of `C` connections (one descriptor each) with `S = 2C` outbound sockets: `3C`.
pub fn split(limit: u64) -> FdBudget {
    let reserve = RESERVE.min(limit / 2);
    let usable = limit - reserve;
    let web = usable / WEBSITE_SHARE;
    let node = usable - web;
    let pipes = node / PIPE_SHARE / PER_PIPE;
    let connections = ((node - pipes * PER_PIPE) / PER_CONNECTION).max(1);
    let sockets = 2 * connections;
    let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    FdBudget {
        limit,
        node_connections: to_usize(connections),
        node_sockets: to_usize(sockets),
        node_pipes: to_usize(pipes),
        user_sockets: (to_usize(sockets) / USER_SHARE).max(1),
        source_connections: (to_usize(connections) / SOURCE_SHARE).max(1),
        web_connections: to_usize(web.max(1)),
        reserve,
    }
}

/// Raises the soft descriptor limit to the hard one (as far as the system lets us) and
/// returns the limit now in force.
pub fn raise_limit() -> u64 {
    let current = getrlimit(Resource::Nofile);
    if current.current != current.maximum {
        let raised = Rlimit {
            current: current.maximum,
            maximum: current.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_err() {
            tracing::warn!("cannot raise the descriptor limit; keeping the current one");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(UNLIMITED)
}

impl FdBudget {
    /// The line `milly serve` prints at start (no addresses).
    pub fn describe(&self) -> String {
        format!(
            "descriptors: limit {}; node up to {} connections ({} per address) and {} outbound \
             sockets ({} per user), {} splice pipes; website {} connections; {} reserved",
            self.limit,
            self.node_connections,
            self.source_connections,
            self.node_sockets,
            self.user_sockets,
            self.node_pipes,
            self.web_connections,
            self.reserve
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_share_fits_in_the_limit_at_worst() {
        for limit in [64, 1024, 2048, 20_000, 1_048_576] {
            let b = split(limit);
            let node_worst =
                (b.node_connections + b.node_sockets) as u64 + b.node_pipes as u64 * PER_PIPE;
            let total = node_worst + b.web_connections as u64 + b.reserve;
            assert!(total <= limit, "{limit}: {b:?} needs {total}");
            assert!(
                b.user_sockets < b.node_sockets,
                "{limit}: one user cannot take all"
            );
            assert!(
                b.source_connections < b.node_connections,
                "{limit}: one address cannot take all"
            );
        }
    }

    #[test]
    fn a_2048_limit_keeps_256_in_reserve_and_an_eighth_for_the_website() {
        let b = split(2048);
        assert_eq!(b.reserve, 256);
        assert_eq!(b.web_connections, 224);
        // The node's 1568: a quarter for 196 pipes, then 392 connections with 784 sockets.
        assert_eq!(b.node_pipes, 196);
        assert_eq!(b.node_connections, 392);
        assert_eq!(b.node_sockets, 784);
        assert_eq!(b.user_sockets, 98);
        assert_eq!(b.source_connections, 98);
    }

    #[test]
    fn a_tiny_limit_still_leaves_half_in_reserve_and_one_of_each() {
        let b = split(10);
        assert_eq!(b.reserve, 5);
        assert!(b.node_connections >= 1 && b.node_sockets >= 1 && b.user_sockets >= 1);
    }

    #[test]
    fn raising_the_limit_reaches_the_hard_limit() {
        let limit = raise_limit();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(Some(limit), now.current.or(Some(UNLIMITED)));
        assert_eq!(now.current, now.maximum);
    }
}
