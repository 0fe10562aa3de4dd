//! `milly node join` and `milly node run`: a remote node's server joins a control plane, then runs the data plane alone, fed over the network (no store, no website, no bot).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use feed_wire::{JoinString, NodeSettings, SecuritySettings};
use node_agent::{AgentConfig, Feed, Timing};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::embedded_node::per_source;
use crate::fd_budget::{self, FdBudget};

/// Where `milly node run` looks without `--config`.
pub const DEFAULT_NODE_CONFIG: &str = "./node.toml";

/// The running node's counters, replaced when new settings restart it.
type CurrentMetrics = Arc<Mutex<Option<Arc<node::Metrics>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `milly node join JOIN --dir DIR`.
pub async fn join(join: &JoinString, dir: &Path) -> Result<()> {
    let enrolled = node_agent::enroll(join, dir)
        .await
        .with_context(|| format!("cannot join the control plane at {}", join.address()))?;
    println!(
        "joined the control plane at {} as node {}",
        join.address(),
        enrolled.node_name
    );
    println!(
        "wrote {} and the node's credential beside it",
        enrolled.config_path.display()
    );
    println!(
        "next: milly node run --config {}",
        enrolled.config_path.display()
    );
    Ok(())
}

/// `milly node run --config DIR/node.toml`, until SIGINT or SIGTERM.
pub async fn run(config_path: &Path) -> Result<()> {
    // node.toml is the node's own file; its log format comes from the environment as
    // milly.toml's would (`MILLY_LOG__FORMAT=json`).
    if let Ok(format) = std::env::var("MILLY_LOG__FORMAT") {
        let format = format
            .parse::<config::LogFormat>()
            .map_err(|e| anyhow::anyhow!("MILLY_LOG__FORMAT: {e}"))?;
        crate::logging::set_format(format);
    }
    let config = AgentConfig::load(config_path)?;
    println!(
        "node {}: control plane {} (config {})",
        config.node_name,
        config.control_address,
        config_path.display()
    );
    let fds = fd_budget::split(fd_budget::raise_limit());
    println!("{}", fds.describe());
    let table = node::AccessTable::new();
    let (settings_tx, mut settings) = watch::channel(None);
    let metrics = CurrentMetrics::default();
    let reader = metrics.clone();
    let feed = Feed {
        table: table.clone(),
        settings: settings_tx,
        stats: Arc::new(move || lock(&reader).as_ref().map(|m| m.snapshot())),
    };
    let shutdown = CancellationToken::new();
    let agent = {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tokio::spawn(
            async move { node_agent::run(&config, feed, Timing::default(), shutdown).await },
        )
    };
    let signal = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let name = super::signal::shutdown_signal().await;
            if let Ok(name) = &name {
                println!("{name}: shutting down");
            }
            shutdown.cancel();
            name.map(|_| ())
        })
    };
    if settings.borrow().is_none() {
        println!("waiting for the node's settings from the control plane");
    }
    let served = serve(&config, &fds, &table, &mut settings, &metrics, &shutdown).await;
    shutdown.cancel();
    signal.abort();
    agent
        .await
        .context("the control link crashed")?
        .context("the control link stopped")?;
    served
}

/// Runs the node with the current settings, restarting it when they change, until `shutdown`.
async fn serve(
    config: &AgentConfig,
    fds: &FdBudget,
    table: &node::AccessTable,
    settings: &mut watch::Receiver<Option<NodeSettings>>,
    metrics: &CurrentMetrics,
    shutdown: &CancellationToken,
) -> Result<()> {
    // An exit's entries' keys: swapped in place, so an entry added or removed neither
    // restarts the listener nor ends other connections (a removed entry's are cut).
    let peers = Peers::default();
    loop {
        let current = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            current = settings.wait_for(Option::is_some) => current
                .map_err(|_| anyhow!("the control link stopped"))?
                .clone(),
        };
        let Some(mut current) = current else { continue };
        let node_config = node_config(config, &current, fds)?;
        let listen = node_config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let plain = match &config.http {
            Some(http) => Some(node::PlainHttp {
                listener: TcpListener::bind(http.listen).await.with_context(|| {
                    format!("cannot listen on node.http.listen {}", http.listen)
                })?,
                identity: http.identity(),
            }),
            None => None,
        };
        peers.set(&current.peer_keys);
        let node = node::Node::with_peers(node_config, table.clone(), peers.table.clone())
            .context("cannot start the node")?;
        *lock(metrics) = Some(node.metrics());
        println!("node: vless+{} on {listen}", security_name(&current));
        if let Some(http) = &config.http {
            println!(
                "node: HTTP transports in plain HTTP on {}, for a reverse proxy in front",
                http.listen
            );
        }
        if current.upstream.is_some() {
            println!("node: an entry: every user's connection leaves through its exit node");
        }
        if !current.peer_keys.is_empty() {
            println!(
                "node: an exit for {} entry node(s) of the chain",
                current.peer_keys.len()
            );
        }
        println!("ready");
        let stop = shutdown.child_token();
        let mut running = tokio::spawn(node.run_with(listener, plain, stop.clone()));
        loop {
            tokio::select! {
                ended = &mut running => {
                    ended.context("the node crashed")?.context("the node stopped")?;
                    return if shutdown.is_cancelled() {
                        Ok(())
                    } else {
                        Err(anyhow!("the node stopped unexpectedly"))
                    };
                }
                changed = settings.changed() => {
                    changed.map_err(|_| anyhow!("the control link stopped"))?;
                    let Some(new) = settings.borrow().clone() else { continue };
                    if new == current {
                        continue;
                    }
                    if same_listener(&new, &current) {
                        peers.set(&new.peer_keys);
                        println!(
                            "node: an exit for {} entry node(s) of the chain",
                            new.peer_keys.len()
                        );
                        current = new;
                        continue;
                    }
                    println!("node: new settings from the control plane, restarting the listener");
                    stop.cancel();
                    let _ = running.await;
                    break;
                }
            }
        }
    }
}

/// The keys of an exit's entry nodes, as the node reads them.
#[derive(Default)]
struct Peers {
    table: node::AccessTable,
    revision: std::sync::atomic::AtomicU64,
}

impl Peers {
    /// Replaces the keys; connections of a key that is gone are cut.
    fn set(&self, keys: &[[u8; 16]]) {
        use std::sync::atomic::Ordering;
        let revision = self.revision.fetch_add(1, Ordering::Relaxed) + 1;
        self.table.apply(node::AccessUpdate::Snapshot {
            revision,
            entries: keys
                .iter()
                .map(|&key| node::AccessEntry {
                    key: vless::UserKey(key),
                    expires_at: i64::MAX,
                })
                .collect(),
        });
    }
}

/// Whether two settings differ at most in the exit's peer keys, which change in place.
fn same_listener(a: &NodeSettings, b: &NodeSettings) -> bool {
    (&a.port, &a.security, &a.upstream, &a.http) == (&b.port, &b.security, &b.upstream, &b.http)
}

fn security_name(settings: &NodeSettings) -> &'static str {
    match settings.security {
        SecuritySettings::Tls { .. } => "tls",
        SecuritySettings::Reality { .. } => "reality",
    }
}

/// What the node runs with: `listen` from node.toml with the port and security the control
/// plane sent, the default limits lowered to what the descriptor budget `fds` allows (as the
/// embedded node's are).
fn node_config(
    config: &AgentConfig,
    settings: &NodeSettings,
    fds: &FdBudget,
) -> Result<node::NodeConfig> {
    if settings.port == 0 {
        return Err(anyhow!("the control plane sent port 0 for this node"));
    }
    let listen = SocketAddr::new(config.listen, settings.port);
    let tls = match &settings.security {
        SecuritySettings::Tls {
            certificate_pem,
            private_key_pem,
        } => node::TlsSource::Pem {
            cert: certificate_pem.clone(),
            key: private_key_pem.clone(),
        },
        SecuritySettings::Reality {
            private_key,
            short_ids,
            dest,
            server_names,
            max_time_diff_ms,
            mldsa65_seed,
        } => {
            let short_ids = short_ids
                .iter()
                .map(|id| reality::parse_short_id(id))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| anyhow!("the control plane sent an invalid REALITY short id"))?;
            node::TlsSource::Reality(Box::new(node::RealitySettings {
                server: reality::ServerConfig {
                    private_key: *private_key,
                    short_ids,
                    server_names: server_names.clone(),
                    max_time_diff: (*max_time_diff_ms > 0)
                        .then(|| Duration::from_millis(*max_time_diff_ms)),
                    min_client_version: None,
                    max_client_version: None,
                },
                dest: dest.clone(),
                mldsa65_seed: *mldsa65_seed,
            }))
        }
    };
    let mut node = node::NodeConfig::new(listen, tls, config.fallback);
    node.upstream = settings
        .upstream
        .as_ref()
        .map(|up| {
            Ok::<_, anyhow::Error>(node::Upstream {
                host: up.host.clone(),
                port: up.port,
                public_key: up.public_key,
                short_id: reality::parse_short_id(&up.short_id).map_err(|_| {
                    anyhow!("the control plane sent an invalid short id for the exit")
                })?,
                server_name: up.server_name.clone(),
                key: vless::UserKey(up.key),
            })
        })
        .transpose()?;
    // XHTTP and gRPC ride on TLS or REALITY; WebSocket and HTTPUpgrade on TLS only: a REALITY
    // node is never sent them (`milly node` refuses them), and is given none should a control
    // plane send them anyway.
    let tls = matches!(settings.security, SecuritySettings::Tls { .. });
    let http = &settings.http;
    node.http = node::HttpTransports {
        ws: http.ws_path.clone().filter(|_| tls),
        httpupgrade: http.httpupgrade_path.clone().filter(|_| tls),
        xhttp: http.xhttp_path.clone(),
        grpc: http.grpc_service_name.clone(),
    };
    node.allow_private_destinations = config.allow_private_destinations;
    node.max_connections = node.max_connections.min(fds.node_connections);
    node.max_sockets_per_user = node.max_sockets_per_user.min(fds.user_sockets);
    node.max_sockets = fds.node_sockets;
    node.max_pipes = fds.node_pipes;
    node.max_connections_per_source = per_source(0, fds);
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent_config() -> AgentConfig {
        AgentConfig {
            control_address: "control.example.com:7443".into(),
            control_pin: feed_wire::CertPin([1; 32]),
            node_name: "de-1".into(),
            listen: "0.0.0.0".parse().unwrap(),
            fallback: "127.0.0.1:80".parse().unwrap(),
            allow_private_destinations: false,
            certificate: "node.crt".into(),
            key: "node.key".into(),
            cache_dir: ".".into(),
            http: None,
        }
    }

    #[test]
    fn reality_settings_from_the_control_plane_become_the_nodes_within_the_descriptor_budget() {
        let settings = NodeSettings {
            port: 8443,
            security: SecuritySettings::Reality {
                private_key: [7; 32],
                short_ids: vec!["".into(), "0123abcd".into()],
                dest: "www.example.com:443".into(),
                server_names: vec!["www.example.com".into()],
                max_time_diff_ms: 90_000,
                mldsa65_seed: Some([8; 32]),
            },
            upstream: Some(Box::new(feed_wire::Upstream {
                host: "exit.example.com".into(),
                port: 443,
                public_key: [9; 32],
                short_id: "ab".into(),
                server_name: "www.example.org".into(),
                key: [10; 16],
            })),
            peer_keys: vec![[11; 16]],
            http: Default::default(),
        };
        let fds = fd_budget::split(2048);
        let node = node_config(&agent_config(), &settings, &fds).unwrap();
        assert_eq!(node.listen, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(node.fallback, "127.0.0.1:80".parse().unwrap());
        assert_eq!(node.max_connections, fds.node_connections);
        assert_eq!(node.max_connections_per_source, fds.source_connections);
        let node::TlsSource::Reality(reality) = node.tls else {
            panic!("REALITY")
        };
        assert_eq!(reality.server.private_key, [7; 32]);
        assert_eq!(
            reality.server.short_ids,
            vec![[0; 8], [0x01, 0x23, 0xab, 0xcd, 0, 0, 0, 0]]
        );
        assert_eq!(reality.server.max_time_diff, Some(Duration::from_secs(90)));
        assert_eq!(reality.dest, "www.example.com:443");
        assert_eq!(reality.mldsa65_seed, Some([8; 32]));
        let upstream = node.upstream.unwrap();
        assert_eq!(
            (upstream.host.as_str(), upstream.port),
            ("exit.example.com", 443)
        );
        assert_eq!(upstream.short_id, [0xab, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(upstream.key, vless::UserKey([10; 16]));
    }

    #[test]
    fn only_a_change_of_peer_keys_keeps_the_listener() {
        let settings = NodeSettings {
            port: 443,
            security: SecuritySettings::Tls {
                certificate_pem: "CERT".into(),
                private_key_pem: "KEY".into(),
            },
            upstream: None,
            peer_keys: vec![[1; 16]],
            http: Default::default(),
        };
        let more_peers = NodeSettings {
            peer_keys: vec![[1; 16], [2; 16]],
            ..settings.clone()
        };
        assert!(same_listener(&settings, &more_peers));
        let other_port = NodeSettings {
            port: 8443,
            ..settings.clone()
        };
        assert!(!same_listener(&settings, &other_port));
        let with_ws = NodeSettings {
            http: feed_wire::HttpSettings {
                ws_path: Some("/p/ws".into()),
                httpupgrade_path: None,
                ..Default::default()
            },
            ..settings.clone()
        };
        assert!(!same_listener(&settings, &with_ws));
        let peers = Peers::default();
        peers.set(&more_peers.peer_keys);
        assert!(peers
            .table
            .is_allowed(&vless::UserKey([2; 16]), i64::MAX - 1));
        peers.set(&settings.peer_keys);
        assert!(!peers.table.is_allowed(&vless::UserKey([2; 16]), 0));
    }

    #[test]
    fn tls_settings_carry_the_certificate_and_bad_settings_are_refused() {
        let tls = NodeSettings {
            port: 443,
            security: SecuritySettings::Tls {
                certificate_pem: "CERT".into(),
                private_key_pem: "KEY".into(),
            },
            upstream: None,
            peer_keys: vec![],
            http: Default::default(),
        };
        let fds = fd_budget::split(1 << 16);
        let node = node_config(&agent_config(), &tls, &fds).unwrap();
        assert_eq!(
            node.tls,
            node::TlsSource::Pem {
                cert: "CERT".into(),
                key: "KEY".into()
            }
        );
        assert_eq!(node.http, node::HttpTransports::default());
        let ws = NodeSettings {
            http: feed_wire::HttpSettings {
                ws_path: Some("/p/ws".into()),
                httpupgrade_path: Some("/p/up".into()),
                xhttp_path: Some("/p/xh".into()),
                grpc_service_name: Some("p.grpc".into()),
            },
            ..tls.clone()
        };
        let node = node_config(&agent_config(), &ws, &fds).unwrap();
        assert_eq!(node.http.ws.as_deref(), Some("/p/ws"));
        assert_eq!(node.http.httpupgrade.as_deref(), Some("/p/up"));
        assert_eq!(node.http.xhttp.as_deref(), Some("/p/xh"));
        assert_eq!(node.http.grpc.as_deref(), Some("p.grpc"));
        // Over REALITY: XHTTP and gRPC, never WebSocket or HTTPUpgrade.
        let reality = NodeSettings {
            security: SecuritySettings::Reality {
                private_key: [7; 32],
                short_ids: vec!["6ba85179e30d4fc2".into()],
                dest: "www.example.com:443".into(),
                server_names: vec!["www.example.com".into()],
                max_time_diff_ms: 0,
                mldsa65_seed: None,
            },
            ..ws.clone()
        };
        let node = node_config(&agent_config(), &reality, &fds).unwrap();
        assert_eq!(
            node.http,
            node::HttpTransports {
                ws: None,
                httpupgrade: None,
                xhttp: Some("/p/xh".into()),
                grpc: Some("p.grpc".into()),
            }
        );
        let zero = NodeSettings { port: 0, ..tls };
        assert!(node_config(&agent_config(), &zero, &fds).is_err());
        let bad_short_id = NodeSettings {
            port: 443,
            security: SecuritySettings::Reality {
                private_key: [7; 32],
                short_ids: vec!["not hex".into()],
                dest: "www.example.com:443".into(),
                server_names: vec![],
                max_time_diff_ms: 0,
                mldsa65_seed: None,
            },
            upstream: None,
            peer_keys: vec![],
            http: Default::default(),
        };
        assert!(node_config(&agent_config(), &bad_short_id, &fds).is_err());
    }
}
