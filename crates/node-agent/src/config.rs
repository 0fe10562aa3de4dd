//! `node.toml`: what `milly node join` writes and `milly node run` reads (the control plane, its pin, this node's listener, credential and cache).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use feed_wire::CertPin;
use serde::Deserialize;

/// Where connections that are not our VLESS clients go (TLS security) when `node.toml` says
/// nothing: a local website if there is one; with nothing listening they are closed.
pub const DEFAULT_FALLBACK: &str = "127.0.0.1:80";

/// A node's settings from `node.toml`, paths resolved against the file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// The control plane's `host:port`.
    pub control_address: String,
    /// The SHA-256 of the control plane's certificate.
    pub control_pin: CertPin,
    /// The name the operator gave this node (informative: the control plane knows the node
    /// by its certificate).
    pub node_name: String,
    /// The address the VLESS listener binds; its port comes from the control plane.
    pub listen: IpAddr,
    /// Where strangers are relayed with TLS security.
    pub fallback: SocketAddr,
    /// Let users reach loopback, private and link-local networks (tests, trusted setups).
    pub allow_private_destinations: bool,
    /// The node's client certificate and key.
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// Where `access.cache` and `settings.cache` live.
    pub cache_dir: PathBuf,
    /// `[node.http]`: the HTTP transports also in plain HTTP, for a reverse proxy in front.
    pub http: Option<PlainHttpConfig>,
}

/// `[node.http]` of `node.toml`: the plain listener for a reverse proxy or CDN in front, and
/// whom to believe about clients' addresses on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainHttpConfig {
    /// Where the HTTP transports are served in plain HTTP/1.1 and h2c (loopback or a private
    /// network: it is not encrypted).
    pub listen: SocketAddr,
    /// The proxies whose forwarded header names the client (none: every connection is its TCP
    /// peer's).
    pub trusted_proxies: Vec<client_identity::IpNetwork>,
    pub forwarded_header: client_identity::ForwardedHeader,
}

impl PlainHttpConfig {
    pub fn identity(&self) -> client_identity::ClientIdentity {
        client_identity::ClientIdentity::new(
            self.trusted_proxies.clone(),
            self.forwarded_header.clone(),
        )
    }
}

/// Why `node.toml` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid node.toml: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    control: ControlSection,
    node: NodeSection,
    credential: CredentialSection,
    cache: CacheSection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlSection {
    address: String,
    pin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSection {
    name: String,
    listen: IpAddr,
    fallback: Option<SocketAddr>,
    #[serde(default)]
    allow_private_destinations: bool,
    http: Option<HttpSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    listen: SocketAddr,
    #[serde(default)]
    trusted_proxies: Vec<client_identity::IpNetwork>,
    #[serde(default)]
    forwarded_header: client_identity::ForwardedHeader,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialSection {
    certificate: PathBuf,
    key: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheSection {
    dir: PathBuf,
}

impl AgentConfig {
    /// Reads and checks `node.toml`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base).map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses the text of a `node.toml` whose relative paths are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        let control_pin = file
            .control
            .pin
            .parse::<CertPin>()
            .map_err(|e| format!("control.pin: {e}"))?;
        if !file.control.address.contains(':') {
            return Err("control.address is host:port".into());
        }
        let fallback = match file.node.fallback {
            Some(addr) => addr,
            None => DEFAULT_FALLBACK
                .parse()
                .map_err(|_| "the default fallback".to_owned())?,
        };
        Ok(AgentConfig {
            control_address: file.control.address,
            control_pin,
            node_name: file.node.name,
            listen: file.node.listen,
            fallback,
            allow_private_destinations: file.node.allow_private_destinations,
            certificate: base.join(file.credential.certificate),
            key: base.join(file.credential.key),
            cache_dir: base.join(file.cache.dir),
            http: file.node.http.map(|http| PlainHttpConfig {
                listen: http.listen,
                trusted_proxies: http.trusted_proxies,
                forwarded_header: http.forwarded_header,
            }),
        })
    }

    /// The commented `node.toml` for these settings, as `milly node join` writes it.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let p = |p: &Path| q(&p.display().to_string());
        format!(
            r#"# milly node: this server's link to its control plane, written by `milly node join`.
# Run the node with `milly node run --config <this file>`. It serves VLESS users from the
# access table the control plane sends (user ids and expiry times only) and opens no
# management port: it dials out to the control plane.

[control]
# The control plane this node dials (host:port).
address = {address}
# SHA-256 of the control plane's TLS certificate: the only certificate accepted there.
pin = {pin}

[node]
# The name the operator gave this node on the control plane (`milly node list`).
name = {name}
# The address the VLESS listener binds; its port and security (TLS or REALITY) come from
# the control plane.
listen = {listen}
# With TLS security, connections that are not our clients are relayed here (a local
# website); with nothing listening they are closed.
fallback = {fallback}
# Let users reach this server's loopback and private networks (tests, trusted setups only).
allow_private_destinations = {private}

{http}

[credential]
# This node's certificate and private key (mutual TLS), made at join. Keep the key secret:
# it is the node's identity. `milly node remove` on the control plane revokes it.
certificate = {certificate}
key = {key}

[cache]
# Where the last access table and settings are kept (access.cache, settings.cache), so the
# node serves valid users after a restart while the control plane is unreachable.
dir = {cache}
"#,
            address = q(&self.control_address),
            pin = q(&self.control_pin.to_string()),
            name = q(&self.node_name),
            listen = q(&self.listen.to_string()),
            fallback = q(&self.fallback.to_string()),
            private = self.allow_private_destinations,
            certificate = p(&self.certificate),
            key = p(&self.key),
            cache = p(&self.cache_dir),
            http = self.http_toml(),
        )
    }

    /// `[node.http]`, commented out while there is none.
    fn http_toml(&self) -> String {
        let q = |s: String| toml::Value::String(s).to_string();
        let intro = "# The HTTP transports the control plane gives this node (ws, httpupgrade, xhttp, grpc)\n\
                     # also in plain HTTP/1.1 and h2c on `listen`, for nginx, Caddy or a CDN in front that\n\
                     # terminates TLS (docs/transports.md). Bind it to loopback or a private network: it is\n\
                     # not encrypted. Only `trusted_proxies` may name a client's address, in\n\
                     # `forwarded_header`; addresses are only counted in memory, never logged.\n";
        match &self.http {
            None => format!(
                "{intro}# [node.http]\n# listen = \"127.0.0.1:10080\"\n# trusted_proxies = [\"127.0.0.1\"]\n# forwarded_header = \"X-Forwarded-For\""
            ),
            Some(http) => {
                let proxies: Vec<String> = http
                    .trusted_proxies
                    .iter()
                    .map(|p| q(p.to_string()))
                    .collect();
                format!(
                    "{intro}[node.http]\nlisten = {}\ntrusted_proxies = [{}]\nforwarded_header = {}",
                    q(http.listen.to_string()),
                    proxies.join(", "),
                    q(http.forwarded_header.to_string()),
                )
            }
        }
    }
}

/// How the agent paces itself; the defaults are for production, tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// For the TCP connect and for the TLS handshake, each.
    pub connect_timeout: Duration,
    /// The first pause after a failed connection; it doubles up to `backoff_max`, with jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// A link that carried nothing for this long is dropped and dialled again.
    pub silence_limit: Duration,
    /// How often aggregate counters are reported.
    pub stats_interval: Duration,
    /// Shortest time between two writes of the access cache.
    pub cache_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            silence_limit: feed_wire::SILENCE_LIMIT,
            stats_interval: Duration::from_secs(30),
            cache_interval: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AgentConfig {
        AgentConfig {
            control_address: "control.example.com:7443".into(),
            control_pin: CertPin([7; 32]),
            node_name: "de-1 \"Frankfurt\"".into(),
            listen: "0.0.0.0".parse().unwrap(),
            fallback: "127.0.0.1:8081".parse().unwrap(),
            allow_private_destinations: true,
            certificate: "/srv/node/node.crt".into(),
            key: "/srv/node/node.key".into(),
            cache_dir: "/srv/node".into(),
            http: None,
        }
    }

    fn behind_a_proxy() -> AgentConfig {
        AgentConfig {
            http: Some(PlainHttpConfig {
                listen: "127.0.0.1:10080".parse().unwrap(),
                trusted_proxies: vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()],
                forwarded_header: "CF-Connecting-IP".parse().unwrap(),
            }),
            ..sample()
        }
    }

    #[test]
    fn the_written_node_toml_reads_back_the_same_and_is_commented() {
        let text = sample().to_toml();
        assert!(text.lines().filter(|l| l.starts_with('#')).count() > 10);
        assert_eq!(
            AgentConfig::parse(&text, Path::new("/elsewhere")),
            Ok(sample())
        );
    }

    #[test]
    fn a_plain_listener_behind_a_proxy_reads_back_and_is_commented_out_without_one() {
        let text = behind_a_proxy().to_toml();
        assert!(
            text.contains("\n[node.http]\nlisten = \"127.0.0.1:10080\"\n"),
            "{text}"
        );
        assert_eq!(
            AgentConfig::parse(&text, Path::new("/elsewhere")),
            Ok(behind_a_proxy())
        );
        let without = sample().to_toml();
        assert!(without.contains("# [node.http]\n# listen = "), "{without}");
        let uncommented = without
            .replace("# [node.http]", "[node.http]")
            .replace("# listen = \"127", "listen = \"127");
        let config = AgentConfig::parse(&uncommented, Path::new("/")).unwrap();
        let http = config.http.unwrap();
        assert!(
            http.trusted_proxies.is_empty(),
            "no proxy is trusted unless named"
        );
        assert_eq!(http.forwarded_header, Default::default());
    }

    #[test]
    fn relative_paths_are_relative_to_the_files_directory_and_fallback_has_a_default() {
        let text = sample()
            .to_toml()
            .replace("\"/srv/node/node.crt\"", "\"node.crt\"")
            .replace("dir = \"/srv/node\"", "dir = \"cache\"")
            .replace("fallback = \"127.0.0.1:8081\"", "")
            .replace("allow_private_destinations = true", "");
        let config = AgentConfig::parse(&text, Path::new("/etc/milly")).unwrap();
        assert_eq!(config.certificate, Path::new("/etc/milly/node.crt"));
        assert_eq!(config.cache_dir, Path::new("/etc/milly/cache"));
        assert_eq!(config.fallback, DEFAULT_FALLBACK.parse().unwrap());
        assert!(
            !config.allow_private_destinations,
            "private networks stay closed by default"
        );
    }

    #[test]
    fn a_bad_pin_or_an_unknown_key_is_refused() {
        let bad_pin = sample().to_toml().replace(&"07".repeat(32), "abc");
        assert!(AgentConfig::parse(&bad_pin, Path::new("/"))
            .unwrap_err()
            .contains("control.pin"));
        let typo = sample().to_toml().replace("listen =", "lissen =");
        assert!(AgentConfig::parse(&typo, Path::new("/")).is_err());
    }
}
