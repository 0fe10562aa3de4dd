//! The embedded node: its settings from `[node]` (certificate files, a self-signed certificate
//! generated once into the data directory and regenerated when its names change, or REALITY
//! from `[node.reality]`), and its record in the store so every front end prints links to it.

use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, Result};
use domain::{Location, NodeSecurity, NodeTransport, RealityParams, TlsParams};

use crate::data_dir;
use crate::fd_budget::FdBudget;

/// The node's settings from `[node]`, its caps lowered to what the descriptor budget `fds`
/// allows (a lower value in the config wins). `acme` is the website's ACME certificate, which
/// the node presents when `config.node_uses_acme()`.
pub fn node_config(
    config: &config::Config,
    fds: &FdBudget,
    acme: Option<node::CertificateResolver>,
) -> Result<node::NodeConfig> {
    let c = &config.node;
    let tls = match (&c.tls.cert, &c.tls.key) {
        _ if c.security == config::NodeSecurityKind::Reality => {
            node::TlsSource::Reality(Box::new(reality_settings(&c.reality)?))
        }
        _ if config.node_uses_acme() => {
            node::TlsSource::Resolver(acme.context("the node's ACME certificate is not set up")?)
        }
        (Some(cert), Some(key)) => node::TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => {
            let (cert, key) = self_signed(config)?;
            node::TlsSource::Pem { cert, key }
        }
    };
    Ok(node::NodeConfig {
        listen: c.listen,
        tls,
        fallback: c.fallback.unwrap_or(config.web.listen),
        handshake_timeout: Duration::from_secs(c.handshake_timeout_secs),
        idle_timeout: Duration::from_secs(c.idle_timeout_secs),
        max_connections: c.max_connections.min(fds.node_connections),
        allow_private_destinations: c.allow_private_destinations,
        own_addresses: public_host_addresses(&c.public_host),
        allow_smtp: c.allowed_smtp,
        max_mux_sessions: c.max_mux_sessions,
        max_sockets_per_user: c.max_sockets_per_user.min(fds.user_sockets),
        max_sockets: fds.node_sockets,
        max_pipes: fds.node_pipes,
        max_connections_per_source: per_source(c.max_connections_per_source, fds),
        max_handshakes_per_source: c.max_handshakes_per_source,
        max_connects_in_flight: c.max_connects_in_flight,
        fallback_idle_timeout: Duration::from_secs(c.fallback_idle_timeout_secs),
        fallback_max_lifetime: Duration::from_secs(c.fallback_max_lifetime_secs),
        fallback_proxy_protocol: c.fallback_proxy_protocol,
        // The embedded node is in no chain (`app` refuses it as an exit).
        upstream: None,
        http: http_transports(c),
        xhttp_sessions: node::config::default_xhttp_sessions(),
    })
}

/// The HTTP transports the node serves, each at its path (gRPC by its service name): over TLS
/// any, over REALITY only XHTTP and gRPC (config refuses the others there; a REALITY node is
/// given none of them should validation ever let one through).
fn http_transports(c: &config::NodeSection) -> node::HttpTransports {
    let on = |t: config::NodeTransport| {
        let allowed = c.security == config::NodeSecurityKind::Tls || t.over_reality();
        allowed && c.transports.contains(&t)
    };
    let path = |t: config::NodeTransport| on(t).then(|| c.transport_path(t)).flatten();
    node::HttpTransports {
        ws: path(config::NodeTransport::Ws),
        httpupgrade: path(config::NodeTransport::Httpupgrade),
        xhttp: path(config::NodeTransport::Xhttp),
        grpc: on(config::NodeTransport::Grpc).then(|| c.grpc_service_name()),
    }
}

/// The transports users' links and profiles list for the embedded node, in `[node]
/// transports`' order (remote nodes' are kept by `milly node`, `commands/node/transports.rs`).
fn link_transports(c: &config::NodeSection) -> Vec<NodeTransport> {
    c.transports
        .iter()
        .filter_map(|&t| match t {
            config::NodeTransport::Tcp => Some(NodeTransport::Tcp),
            config::NodeTransport::Ws => c.transport_path(t).map(|path| NodeTransport::Ws { path }),
            config::NodeTransport::Httpupgrade => c
                .transport_path(t)
                .map(|path| NodeTransport::Httpupgrade { path }),
            config::NodeTransport::Xhttp => c
                .transport_path(t)
                .map(|path| NodeTransport::Xhttp { path }),
            config::NodeTransport::Grpc => Some(NodeTransport::Grpc {
                service_name: c.grpc_service_name(),
            }),
        })
        .collect()
}

/// `[node] max_connections_per_source`: 0 is automatic (the node's default, 256, or the
/// descriptor budget's share for one address when that is smaller); a value of the operator's own may go up to the node's
/// connection cap, for users who share one address (CGNAT).
pub(crate) fn per_source(configured: usize, fds: &FdBudget) -> usize {
    match configured {
        0 => node::config::DEFAULT_MAX_CONNECTIONS_PER_SOURCE.min(fds.source_connections),
        n => n.min(fds.node_connections),
    }
}

/// What `[node] public_host` resolves to: the node's own public addresses, which users must
/// not reach through it (its interfaces' addresses are added by the node itself). A name that
/// does not resolve at start adds nothing.
fn public_host_addresses(public_host: &str) -> Vec<IpAddr> {
    if let Ok(ip) = public_host.parse::<IpAddr>() {
        return vec![ip];
    }
    (public_host, 0)
        .to_socket_addrs()
        .map(|addrs| addrs.map(|a| a.ip()).collect())
        .unwrap_or_default()
}

/// `[node.reality]` as the node takes it (config has already checked the values; the errors
/// here name the key, never its value).
fn reality_settings(r: &config::NodeRealityConfig) -> Result<node::RealitySettings> {
    let private_key = reality::decode_key(r.private_key.expose())
        .context("node.reality.private_key is not an X25519 key")?;
    let short_ids = r
        .short_ids
        .iter()
        .map(|id| reality::parse_short_id(id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| anyhow::anyhow!("node.reality.short_ids holds an invalid short id"))?;
    let max_time_diff = (r.max_time_diff_ms > 0).then(|| Duration::from_millis(r.max_time_diff_ms));
    let mldsa65_seed = mldsa65_seed(r)?;
    Ok(node::RealitySettings {
        server: reality::ServerConfig {
            private_key,
            short_ids,
            server_names: r.server_names.clone(),
            max_time_diff,
            min_client_version: None,
            max_client_version: None,
        },
        dest: r.dest.clone(),
        mldsa65_seed,
    })
}

/// `[node.reality] mldsa65_seed`, if set.
fn mldsa65_seed(r: &config::NodeRealityConfig) -> Result<Option<[u8; 32]>> {
    if !r.mldsa65_seed.is_set() {
        return Ok(None);
    }
    let seed = reality::decode_key(r.mldsa65_seed.expose())
        .context("node.reality.mldsa65_seed is not a 32-byte seed")?;
    Ok(Some(seed))
}

/// The certificate covers the server name clients send (and the public host).
fn self_signed(config: &config::Config) -> Result<(String, String)> {
    let dir = &config.service.data_dir;
    data_dir::ensure(dir)?;
    let mut names = vec![config.node.public_host.clone()];
    if !config.node.tls.server_name.is_empty()
        && config.node.tls.server_name != config.node.public_host
    {
        names.push(config.node.tls.server_name.clone());
    }
    let wanted = names.join("\n");
    let names_path = dir.join("node-tls.names");
    let current = std::fs::read_to_string(&names_path).ok();
    if current.as_deref() != Some(wanted.as_str()) {
        for f in ["node-tls.names", "node-cert.pem", "node-key.pem"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        let (cert, key) =
            node::generate_self_signed(&names).context("cannot generate the node's certificate")?;
        data_dir::write_private(&dir.join("node-cert.pem"), &cert)?;
        data_dir::write_private(&dir.join("node-key.pem"), &key)?;
        data_dir::write_private(&names_path, &wanted)?;
    }
    let cert =
        std::fs::read_to_string(dir.join("node-cert.pem")).context("cannot read node-cert.pem")?;
    let key =
        std::fs::read_to_string(dir.join("node-key.pem")).context("cannot read node-key.pem")?;
    Ok((cert, key))
}

/// What a REALITY share link carries: the public key of `[node.reality] private_key`, the
/// first short id, the first server name, the ML-DSA-65 public key of `mldsa65_seed` and the
/// transports (tcp, xhttp, grpc).
fn reality_params(c: &config::NodeSection) -> Result<NodeSecurity> {
    let r = &c.reality;
    let private = reality::decode_key(r.private_key.expose())
        .context("node.reality.private_key is not an X25519 key")?;
    Ok(NodeSecurity::Reality(RealityParams {
        public_key: reality::encode_key(&reality::public_key(&private)),
        short_id: r.short_ids.first().cloned().unwrap_or_default(),
        server_name: r.server_names.first().cloned().unwrap_or_default(),
        mldsa65_verify: mldsa65_seed(r)?.map(|seed| {
            reality::Mldsa65SigningKey::from_seed(&seed)
                .public_key()
                .encode()
        }),
        transports: link_transports(c),
    }))
}

/// Records the embedded node in the store, so every front end prints links to it.
pub async fn register_embedded_node(app: &app::App, config: &config::Config) -> Result<()> {
    let c = &config.node;
    if !c.enabled {
        return Ok(());
    }
    let server_name = if c.tls.server_name.is_empty() {
        c.public_host.clone()
    } else {
        c.tls.server_name.clone()
    };
    let security = match c.security {
        config::NodeSecurityKind::Tls => NodeSecurity::Tls(TlsParams {
            server_name,
            // Certificate files and the ACME certificate are real; a self-signed one is not.
            allow_insecure: c.tls.cert.is_none() && !config.node_uses_acme(),
            transports: link_transports(c),
        }),
        config::NodeSecurityKind::Reality => reality_params(c)?,
    };
    app.register_node(
        &c.name,
        &Location(c.location.clone()),
        &c.public_host,
        c.advertised_port(),
        &security,
    )
    .await
    .context("cannot register the embedded node")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_budget_lowers_the_caps_and_lower_config_values_win() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config::Config::default();
        config.service.data_dir = dir.path().to_owned();
        config.node.max_sockets_per_user = 10;
        config.node.allowed_smtp = true;
        config.node.fallback_proxy_protocol = true;
        let fds = crate::fd_budget::split(2048);
        let node = node_config(&config, &fds, None).unwrap();
        // The defaults (10000 connections, automatically 256 per source) are above what 2048
        // descriptors hold.
        assert_eq!(node.max_connections, fds.node_connections);
        assert_eq!(node.max_connections_per_source, fds.source_connections);
        assert_eq!(node.max_pipes, fds.node_pipes);
        assert_eq!(node.max_sockets, fds.node_sockets);
        // 10 is below the computed share per user: the operator's value wins.
        assert_eq!(node.max_sockets_per_user, 10);
        assert!(node.allow_smtp && node.fallback_proxy_protocol);
        assert_eq!(node.fallback_max_lifetime, Duration::from_secs(600));
        // public_host (127.0.0.1 by default) is one of the node's own addresses.
        assert_eq!(node.own_addresses, vec![IpAddr::from([127, 0, 0, 1])]);
    }

    /// A resolver with nothing to present, standing in for the ACME manager's.
    #[derive(Debug)]
    struct Acme;

    impl rustls::server::ResolvesServerCert for Acme {
        fn resolve(
            &self,
            _hello: rustls::server::ClientHello<'_>,
        ) -> Option<std::sync::Arc<rustls::sign::CertifiedKey>> {
            None
        }
    }

    #[test]
    fn a_tls_node_at_the_acme_domain_presents_the_acme_certificate_and_no_self_signed_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config::Config::default();
        config.service.data_dir = dir.path().to_owned();
        config.web.tls = config::WebTls::Acme;
        // A name that resolves without DNS (node_config looks the host's addresses up).
        config.web.domain = "localhost".into();
        config.node.public_host = "localhost".into();
        let fds = crate::fd_budget::split(2048);
        let resolver = node::CertificateResolver(std::sync::Arc::new(Acme));
        let node = node_config(&config, &fds, Some(resolver.clone())).unwrap();
        assert_eq!(node.tls, node::TlsSource::Resolver(resolver));
        assert!(!dir.path().join("node-cert.pem").exists());
        assert!(node_config(&config, &fds, None).is_err());
    }

    #[test]
    fn connections_per_source_are_automatic_at_zero_and_an_operators_value_may_exceed_the_share() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config::Config::default();
        config.service.data_dir = dir.path().to_owned();
        let large = crate::fd_budget::split(1 << 20);
        assert_eq!(
            node_config(&config, &large, None)
                .unwrap()
                .max_connections_per_source,
            256
        );
        // Many users behind one address: above the automatic share, up to the node's cap.
        let small = crate::fd_budget::split(2048);
        config.node.max_connections_per_source = 100_000;
        let node = node_config(&config, &small, None).unwrap();
        assert!(small.source_connections < small.node_connections);
        assert_eq!(node.max_connections_per_source, small.node_connections);
        config.node.max_connections_per_source = 7;
        assert_eq!(
            node_config(&config, &small, None)
                .unwrap()
                .max_connections_per_source,
            7
        );
    }

    #[test]
    fn xhttp_and_grpc_are_served_and_listed_over_tls_and_reality_ws_over_tls_only() {
        use config::NodeTransport as T;
        let mut c = config::NodeSection {
            transports: vec![T::Tcp, T::Xhttp, T::Ws, T::Grpc, T::Httpupgrade],
            ..config::NodeSection::default()
        };
        c.http.path = "/s3cret".into();
        let all = node::HttpTransports {
            ws: Some("/s3cret/ws".into()),
            httpupgrade: Some("/s3cret/up".into()),
            xhttp: Some("/s3cret/xh".into()),
            grpc: Some("s3cret.grpc".into()),
        };
        assert_eq!(http_transports(&c), all);
        assert_eq!(
            link_transports(&c),
            [
                NodeTransport::Tcp,
                NodeTransport::Xhttp {
                    path: "/s3cret/xh".into()
                },
                NodeTransport::Ws {
                    path: "/s3cret/ws".into()
                },
                NodeTransport::Grpc {
                    service_name: "s3cret.grpc".into()
                },
                NodeTransport::Httpupgrade {
                    path: "/s3cret/up".into()
                },
            ]
        );
        c.security = config::NodeSecurityKind::Reality;
        assert_eq!(
            http_transports(&c),
            node::HttpTransports {
                ws: None,
                httpupgrade: None,
                ..all
            }
        );
        c.transports = vec![T::Tcp];
        assert_eq!(http_transports(&c), node::HttpTransports::default());
        assert_eq!(link_transports(&c), [NodeTransport::Tcp]);
    }
}
