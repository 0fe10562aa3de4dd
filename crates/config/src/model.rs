//! The configuration's shape: one struct per `[section]`, every key with its default.
//!
//! Every struct denies unknown keys, so a typo is an error rather than a silently ignored line.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{DatabaseUrl, Rubles, Secret};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub service: ServiceConfig,
    pub database: DatabaseConfig,
    pub web: WebConfig,
    pub admin: AdminConfig,
    pub node: NodeSection,
    pub telegram: TelegramConfig,
    pub yookassa: YooKassaConfig,
    pub stars: StarsConfig,
    pub plans: Vec<PlanConfig>,
    pub subscription: SubscriptionConfig,
    pub trial: TrialConfig,
    pub referrals: ReferralsConfig,
    pub privacy: PrivacyConfig,
    pub backup: BackupConfig,
    pub log: LogConfig,
    pub control: crate::ControlConfig,
    /// `[nodes.NAME]`: remote nodes' settings kept in the file (see `remote_nodes`).
    pub nodes: crate::RemoteNodeSections,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            service: ServiceConfig::default(),
            database: DatabaseConfig::default(),
            web: WebConfig::default(),
            admin: AdminConfig::default(),
            node: NodeSection::default(),
            telegram: TelegramConfig::default(),
            yookassa: YooKassaConfig::default(),
            stars: StarsConfig::default(),
            plans: default_plans(),
            subscription: SubscriptionConfig::default(),
            trial: TrialConfig::default(),
            referrals: ReferralsConfig::default(),
            privacy: PrivacyConfig::default(),
            backup: BackupConfig::default(),
            log: LogConfig::default(),
            control: crate::ControlConfig::default(),
            nodes: crate::RemoteNodeSections::new(),
        }
    }
}

impl Config {
    /// The plans as domain values (validated at load time).
    pub fn domain_plans(&self) -> Vec<domain::Plan> {
        self.plans.iter().map(PlanConfig::to_domain).collect()
    }

    pub fn plan(&self, id: &str) -> Option<domain::Plan> {
        self.plans
            .iter()
            .find(|p| p.id == id)
            .map(PlanConfig::to_domain)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    pub name: String,
    /// Parsed and checked when the configuration is read: a bad URL names this key.
    pub public_url: domain::PublicUrl,
    pub operator: String,
    pub support_email: String,
    pub support_telegram: String,
    /// Where the SQLite file, generated keys and backups live by default.
    pub data_dir: PathBuf,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            name: "milly".into(),
            public_url: domain::PublicUrl::default(),
            operator: String::new(),
            support_email: String::new(),
            support_telegram: String::new(),
            data_dir: PathBuf::from("./milly-data"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; empty means `milly.db` in the data
    /// directory. Resolved to a concrete URL when the configuration is loaded.
    pub url: DatabaseUrl,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    pub listen: SocketAddr,
    /// Seconds a client has to send a request's whole header (also while a kept-alive
    /// connection waits for its next request).
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may sit idle between requests; a client that stopped
    /// reading its answer is cut off after this plus `request_timeout_secs`.
    pub keepalive_idle_secs: u64,
    /// Seconds one request may take from its header to the end of the handler (body included).
    pub request_timeout_secs: u64,
    /// Most connections open at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Reverse proxies whose `forwarded_header` is believed: addresses or blocks (`10.0.0.0/8`).
    /// Empty: the connection's own address is always the client.
    pub trusted_proxies: Vec<client_identity::IpNetwork>,
    /// The header trusted proxies put the client's address in: `X-Forwarded-For`, `Forwarded`
    /// (RFC 7239) or a one-address header such as `X-Real-IP`.
    pub forwarded_header: client_identity::ForwardedHeader,
    /// The website's domain (`vpn.example.com`): the name on its ACME certificate.
    pub domain: String,
    /// `none`: plain HTTP on `listen` (TLS is a reverse proxy's job); `acme`: milly gets and
    /// renews a certificate for `domain` and serves HTTPS itself.
    pub tls: WebTls,
    /// The ACME CA's directory URL (Let's Encrypt's production directory by default).
    pub acme_directory: String,
    /// A contact address given to the CA for expiry notices; empty gives none.
    pub acme_email: String,
    /// An extra root (PEM) trusted for the ACME directory's own HTTPS: a test or private CA.
    pub acme_ca_file: Option<PathBuf>,
    /// With `tls = "acme"`: where the website is served over HTTPS.
    pub https_listen: SocketAddr,
    /// With `tls = "acme"`: plain HTTP, only for the CA's challenges and a redirect to HTTPS.
    pub http_listen: SocketAddr,
}

/// How the website gets TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebTls {
    /// None of its own (plain HTTP, or behind a TLS reverse proxy).
    #[default]
    None,
    /// A certificate from an ACME CA for `[web] domain`, renewed by milly.
    Acme,
}

/// Let's Encrypt's production ACME directory, `[web] acme_directory`'s default.
pub const LETS_ENCRYPT_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";

impl Config {
    /// The embedded node presents the ACME certificate (`[web] tls = "acme"` and
    /// [`NodeSection::uses_acme`]).
    pub fn node_uses_acme(&self) -> bool {
        self.web.tls == WebTls::Acme && self.node.uses_acme(&self.web.domain)
    }
}

impl WebConfig {
    /// `https://domain`, with the port when `https_listen`'s is not 443, under `tls = "acme"`:
    /// where port 80 redirects to, and `public_url` when the operator left it at its default.
    pub fn https_origin(&self) -> Option<String> {
        let domain = self.domain.trim();
        if self.tls != WebTls::Acme || domain.is_empty() {
            return None;
        }
        Some(match self.https_listen.port() {
            443 => format!("https://{domain}"),
            port => format!("https://{domain}:{port}"),
        })
    }

    /// The ACME certificate's names, the website's domain first, when `tls = "acme"`: the
    /// embedded TLS node's `public_host` joins it when it is the domain or under it and the node
    /// has no certificate files of its own.
    pub fn acme_names(&self, node: &NodeSection) -> Vec<String> {
        if self.tls != WebTls::Acme {
            return Vec::new();
        }
        let mut names = vec![self.domain.clone()];
        if node.uses_acme(&self.domain) && node.public_host != self.domain {
            names.push(node.public_host.clone());
        }
        names
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            header_read_timeout_secs: 10,
            keepalive_idle_secs: 5,
            request_timeout_secs: 30,
            max_connections: 1024,
            trusted_proxies: Vec::new(),
            forwarded_header: client_identity::ForwardedHeader::default(),
            domain: String::new(),
            tls: WebTls::None,
            acme_directory: LETS_ENCRYPT_DIRECTORY.to_owned(),
            acme_email: String::new(),
            acme_ca_file: None,
            https_listen: SocketAddr::from(([0, 0, 0, 0], 443)),
            http_listen: SocketAddr::from(([0, 0, 0, 0], 80)),
        }
    }
}

impl Config {
    /// Who a request comes from, for every limiter and the webhook's source check: `[web]
    /// trusted_proxies` and `forwarded_header`; the older `[yookassa] trusted_proxy_header`
    /// keeps meaning "a proxy on this host sets this header": loopback joins the trusted
    /// proxies and, when `[web] trusted_proxies` is empty, that header is the one read.
    pub fn client_identity(&self) -> client_identity::ClientIdentity {
        let mut trusted = self.web.trusted_proxies.clone();
        let mut header = self.web.forwarded_header.clone();
        let legacy = self.yookassa.trusted_proxy_header.trim();
        if !legacy.is_empty() {
            if let Ok(legacy) = legacy.parse() {
                if trusted.is_empty() {
                    header = legacy;
                }
                trusted.extend(client_identity::IpNetwork::loopback());
            }
        }
        client_identity::ClientIdentity::new(trusted, header)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Bearer token for the admin HTTP API; generated into the data directory when empty.
    pub token: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeSecurityKind {
    /// VLESS over TLS with a certificate (files, or self-signed).
    Tls,
    /// VLESS over REALITY: no certificate or domain of our own; looks like `dest` to everyone
    /// who is not our client.
    Reality,
}

/// A way clients carry VLESS to the node. `tcp` is VLESS straight inside TLS or REALITY; the
/// others are HTTP transports sharing the node's port, each under `[node.http] path`: ws and
/// httpupgrade over TLS only, xhttp and grpc over TLS or REALITY (docs/transports.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeTransport {
    Tcp,
    Ws,
    Httpupgrade,
    Xhttp,
    Grpc,
}

impl NodeTransport {
    /// The name in `milly.toml` and in share links' `type=`.
    pub fn name(self) -> &'static str {
        match self {
            NodeTransport::Tcp => "tcp",
            NodeTransport::Ws => "ws",
            NodeTransport::Httpupgrade => "httpupgrade",
            NodeTransport::Xhttp => "xhttp",
            NodeTransport::Grpc => "grpc",
        }
    }

    /// Whether this build serves it (every transport the configuration names, now).
    pub fn supported(self) -> bool {
        match self {
            NodeTransport::Tcp
            | NodeTransport::Ws
            | NodeTransport::Httpupgrade
            | NodeTransport::Xhttp
            | NodeTransport::Grpc => true,
        }
    }

    /// Whether it may run over REALITY: plain TCP and the transports Xray carries there (XHTTP
    /// and gRPC); WebSocket and HTTPUpgrade are HTTP/1.1 upgrades Xray allows over TLS only.
    pub fn over_reality(self) -> bool {
        matches!(
            self,
            NodeTransport::Tcp | NodeTransport::Xhttp | NodeTransport::Grpc
        )
    }
}

/// The path of WebSocket under `[node.http] path`.
pub const WS_PATH_SUFFIX: &str = "/ws";
/// The path of HTTPUpgrade under `[node.http] path`.
pub const HTTPUPGRADE_PATH_SUFFIX: &str = "/up";
/// The path of XHTTP under `[node.http] path`.
pub const XHTTP_PATH_SUFFIX: &str = "/xh";
/// The end of gRPC's service name (see [`grpc_service_name`]).
pub const GRPC_SERVICE_SUFFIX: &str = ".grpc";

/// gRPC's service name for the secret prefix `path`: its non-empty segments joined by "." and
/// [`GRPC_SERVICE_SUFFIX`] (`/s3cret` is `s3cret.grpc`; clients request `/s3cret.grpc/Tun`).
/// A name holds no "/": Xray escapes one in the request path and other clients do not, so
/// they would ask for different paths.
pub fn grpc_service_name(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("{}{GRPC_SERVICE_SUFFIX}", segments.join("."))
}

/// `[node.http]`: the HTTP transports' common settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeHttpConfig {
    /// The secret prefix every HTTP transport's path starts with (`<path>/ws`, `<path>/up`);
    /// `milly init` makes a random one. Every user's link carries it, so it hides the transports
    /// from probes rather than from users. "" = none set (then no HTTP transport may be on).
    pub path: String,
    /// A plain HTTP/1.1 listener (`127.0.0.1:10080`) serving only the HTTP transports, for a
    /// reverse proxy or CDN in front that terminates TLS; unset = none. Clients' addresses on
    /// it come from `[web] trusted_proxies`.
    pub listen: Option<SocketAddr>,
}

/// `[node]`: a section, not `node::NodeConfig`, which `milly serve` builds from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Run the embedded VLESS node in `milly serve`.
    pub enabled: bool,
    /// Shown to users as the connection's name in their apps.
    pub name: String,
    /// Where the node stands, such as `RU` or `EU`.
    pub location: String,
    pub listen: SocketAddr,
    /// Host name or IP address clients connect to.
    pub public_host: String,
    /// Port clients connect to, when it differs from `listen` (port forwarding); 0 = same.
    pub public_port: u16,
    pub security: NodeSecurityKind,
    /// How clients may carry VLESS here; each is a separate entry in users' links.
    pub transports: Vec<NodeTransport>,
    pub http: NodeHttpConfig,
    pub tls: NodeTlsConfig,
    pub reality: NodeRealityConfig,
    /// Allow destinations in loopback and private networks (tests, trusted setups only).
    pub allow_private_destinations: bool,
    /// Where probes and non-clients are handed; empty means the website's `[web] listen`.
    pub fallback: Option<SocketAddr>,
    pub handshake_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    /// Most simultaneous connections; lowered at start to what the descriptor limit allows.
    pub max_connections: usize,
    /// Most live Mux.Cool sessions on one connection.
    pub max_mux_sessions: usize,
    /// Most outbound sockets (TCP, UDP, XUDP) one user holds across all their connections.
    pub max_sockets_per_user: usize,
    /// Most simultaneous connections from one client address (IPv4, or IPv6 /64).
    pub max_connections_per_source: usize,
    /// Most simultaneous unfinished handshakes from one client address.
    pub max_handshakes_per_source: usize,
    /// Most outbound connects under way at once, node-wide.
    pub max_connects_in_flight: usize,
    /// A stranger's relay to the fallback (or REALITY's dest) idle this long is closed.
    pub fallback_idle_timeout_secs: u64,
    /// A stranger's relay to the fallback (or REALITY's dest) is closed after this long.
    pub fallback_max_lifetime_secs: u64,
    /// Let users reach SMTP ports 25, 465 and 587.
    pub allowed_smtp: bool,
    /// Start connections to the fallback with a PROXY protocol v2 header.
    pub fallback_proxy_protocol: bool,
}

/// The node's timeouts and limits default to the node crate's own (`node::config`), so each
/// is written once.
impl Default for NodeSection {
    fn default() -> Self {
        use node::config as d;
        Self {
            enabled: true,
            name: "milly".into(),
            location: "EU".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_host: "127.0.0.1".into(),
            public_port: 0,
            security: NodeSecurityKind::Tls,
            transports: vec![NodeTransport::Tcp],
            http: NodeHttpConfig::default(),
            tls: NodeTlsConfig::default(),
            reality: NodeRealityConfig::default(),
            allow_private_destinations: false,
            fallback: None,
            handshake_timeout_secs: d::DEFAULT_HANDSHAKE_TIMEOUT.as_secs(),
            idle_timeout_secs: d::DEFAULT_IDLE_TIMEOUT.as_secs(),
            max_connections: d::DEFAULT_MAX_CONNECTIONS,
            max_mux_sessions: d::DEFAULT_MAX_MUX_SESSIONS,
            max_sockets_per_user: d::DEFAULT_MAX_SOCKETS_PER_USER,
            // 0 = automatic: `node::config::DEFAULT_MAX_CONNECTIONS_PER_SOURCE`, or less when
            // the descriptor budget is smaller (`milly`'s `fd_budget`).
            max_connections_per_source: 0,
            max_handshakes_per_source: d::DEFAULT_MAX_HANDSHAKES_PER_SOURCE,
            max_connects_in_flight: d::DEFAULT_MAX_CONNECTS_IN_FLIGHT,
            fallback_idle_timeout_secs: d::DEFAULT_FALLBACK_IDLE_TIMEOUT.as_secs(),
            fallback_max_lifetime_secs: d::DEFAULT_FALLBACK_MAX_LIFETIME.as_secs(),
            allowed_smtp: false,
            fallback_proxy_protocol: false,
        }
    }
}

impl NodeSection {
    /// The path clients request for `transport` (the prefix plus its suffix), `None` for `tcp`
    /// and for gRPC, which is named by a service ([`Self::grpc_service_name`]).
    pub fn transport_path(&self, transport: NodeTransport) -> Option<String> {
        let suffix = match transport {
            NodeTransport::Ws => WS_PATH_SUFFIX,
            NodeTransport::Httpupgrade => HTTPUPGRADE_PATH_SUFFIX,
            NodeTransport::Xhttp => XHTTP_PATH_SUFFIX,
            NodeTransport::Tcp | NodeTransport::Grpc => return None,
        };
        Some(format!("{}{suffix}", self.http.path.trim_end_matches('/')))
    }

    /// gRPC's service name under `[node.http] path` (see [`grpc_service_name`]).
    pub fn grpc_service_name(&self) -> String {
        grpc_service_name(&self.http.path)
    }

    /// A TLS node without certificate files whose `public_host` is `domain` or a name under it
    /// presents the website's ACME certificate (see [`WebConfig::acme_names`]).
    pub fn uses_acme(&self, domain: &str) -> bool {
        let host = self.public_host.trim().to_ascii_lowercase();
        let domain = domain.trim().to_ascii_lowercase();
        self.enabled
            && self.security == NodeSecurityKind::Tls
            && self.tls.cert.is_none()
            && !domain.is_empty()
            && (host == domain || host.ends_with(&format!(".{domain}")))
    }

    pub fn advertised_port(&self) -> u16 {
        if self.public_port == 0 {
            self.listen.port()
        } else {
            self.public_port
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeTlsConfig {
    /// PEM certificate chain; empty means a self-signed certificate generated in the data dir.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The name clients send as SNI; empty means `public_host`.
    pub server_name: String,
}

/// `[node.reality]`: used when `[node] security = "reality"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeRealityConfig {
    /// The node's X25519 private key, URL-safe base64 without padding (`milly keygen reality`).
    pub private_key: Secret,
    /// Short ids clients may present: hex, up to 16 characters each.
    pub short_ids: Vec<String>,
    /// Server names (SNI) clients may use; empty means `dest`'s host.
    pub server_names: Vec<String>,
    /// `host:port` of a real TLS 1.3 website that everyone else is relayed to.
    pub dest: String,
    /// Largest accepted difference between the client's clock and ours, in milliseconds;
    /// 0 = no limit.
    pub max_time_diff_ms: u64,
    /// Optional ML-DSA-65 seed (32 bytes, URL-safe base64 without padding, as `xray mldsa65`
    /// and `milly keygen reality` print it): the certificate also carries an ML-DSA-65
    /// signature, and links carry its public key as `pqv=`. Empty = off.
    pub mldsa65_seed: Secret,
}

impl Default for NodeRealityConfig {
    fn default() -> Self {
        Self {
            private_key: Secret::default(),
            short_ids: Vec::new(),
            server_names: Vec::new(),
            dest: String::new(),
            max_time_diff_ms: 60_000,
            mldsa65_seed: Secret::default(),
        }
    }
}

impl NodeRealityConfig {
    /// The host part of `dest` (without brackets for IPv6).
    pub fn dest_host(&self) -> Option<&str> {
        let (host, _) = self.dest.rsplit_once(':')?;
        Some(host.trim_start_matches('[').trim_end_matches(']'))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// Bot token from @BotFather; the bot runs only when it is set.
    pub token: Secret,
    pub api_url: String,
    /// Telegram ids of the operator's admins.
    pub admins: Vec<i64>,
    /// Chat that receives support messages; 0 means each admin.
    pub support_chat_id: i64,
    /// Public HTTPS URL for webhook mode; empty means long polling.
    pub webhook_url: String,
    /// Remind users this many days before their subscription ends (plus once when it ends).
    pub reminder_days: Vec<u32>,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            token: Secret::default(),
            api_url: "https://api.telegram.org".into(),
            admins: Vec::new(),
            support_chat_id: 0,
            webhook_url: String::new(),
            reminder_days: vec![3, 1],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct YooKassaConfig {
    pub enabled: bool,
    pub shop_id: Secret,
    pub secret_key: Secret,
    pub api_url: String,
    /// Send a 54-FZ receipt with each payment.
    pub receipts: bool,
    /// Email for receipts when the user has none.
    pub receipt_email: String,
    /// Accept notifications only from YooKassa's published networks.
    pub check_source_ip: bool,
    /// Header carrying the client address when a local reverse proxy sits in front (e.g.
    /// `X-Forwarded-For`); believed only for connections from loopback (and `[web]
    /// trusted_proxies`), for the webhook and every rate limit. Empty = none.
    pub trusted_proxy_header: String,
    /// Seconds between checks of pending payments whose notification never came.
    pub reconcile_interval_secs: u64,
    /// The ways to pay YooKassa's page offers (`bank_card`, `sbp`, `sberbank`, `yoo_money`);
    /// empty = whatever the shop has. With several, the person picks one on our page first.
    pub payment_methods: Vec<domain::PaymentMethod>,
}

impl Default for YooKassaConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            shop_id: Secret::default(),
            secret_key: Secret::default(),
            api_url: "https://api.yookassa.ru".into(),
            receipts: false,
            receipt_email: String::new(),
            check_source_ip: true,
            trusted_proxy_header: String::new(),
            reconcile_interval_secs: 60,
            payment_methods: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StarsConfig {
    pub enabled: bool,
}

impl Default for StarsConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub id: String,
    pub days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_rub: Option<Rubles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_stars: Option<u32>,
}

impl PlanConfig {
    pub fn to_domain(&self) -> domain::Plan {
        domain::Plan {
            id: domain::PlanId(self.id.clone()),
            days: domain::Days(self.days),
            price_rub: self.price_rub.map(Rubles::money),
            price_stars: self.price_stars.map(|s| domain::Money::stars(i64::from(s))),
        }
    }
}

fn default_plans() -> Vec<PlanConfig> {
    vec![
        PlanConfig {
            id: "month".into(),
            days: 30,
            price_rub: Some(Rubles { kopecks: 19_900 }),
            price_stars: Some(100),
        },
        PlanConfig {
            id: "quarter".into(),
            days: 90,
            price_rub: Some(Rubles { kopecks: 49_900 }),
            price_stars: Some(250),
        },
    ]
}

/// How `GET /sub/{token}` picks a format for client apps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubscriptionConfig {
    /// Operator rules, tried before the built-in ones.
    pub rules: Vec<SubscriptionRule>,
}

/// "A User-Agent containing `user_agent` (any case) gets `format`."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRule {
    pub user_agent: String,
    /// `base64`, `sing-box`, `clash` or `html`.
    pub format: String,
}

/// The formats `/sub/` can answer with.
pub const SUBSCRIPTION_FORMATS: [&str; 4] = ["base64", "sing-box", "clash", "html"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrialConfig {
    /// Days of the free trial; 0 turns the trial off.
    pub days: u32,
}

impl Default for TrialConfig {
    fn default() -> Self {
        Self { days: 3 }
    }
}

/// `[referrals]`: a person who starts the bot through someone's link and pays for the first
/// time earns that someone `reward_days` and, if set, themselves `welcome_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReferralsConfig {
    /// Whether the bot hands out referral links and links newcomers to them.
    pub enabled: bool,
    /// Days for the referrer when a newcomer pays for the first time; 0 = no reward.
    pub reward_days: u32,
    /// Days for the newcomer on their first payment; 0 (the default) = none.
    pub welcome_days: u32,
}

impl Default for ReferralsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            reward_days: 7,
            welcome_days: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// How long after the last subscription ends a person's data is kept (policy: 3 years).
    pub retention_days: u32,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            retention_days: 1095,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where scheduled backups go; empty means `backups` in the data directory.
    pub dir: Option<PathBuf>,
    /// How many scheduled backups to keep.
    pub keep: u32,
    /// age public keys (`age1...`) backups are encrypted to; no recipients, no backups.
    pub recipients: Vec<String>,
    /// Hours between scheduled backups; 0 turns scheduling off.
    pub interval_hours: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: None,
            keep: 7,
            recipients: Vec::new(),
            interval_hours: 24,
        }
    }
}

/// `[log]`: how milly writes its log lines (to stderr; journald or the container runtime
/// collects them). What is logged is the same in every format: never an address, a
/// destination or a secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("`{other}` is not a log format: text or json")),
        }
    }
}
