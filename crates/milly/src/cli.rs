//! The command line: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use domain::UserRef;

#[derive(Debug, Parser)]
#[command(
    name = "milly",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("MILLY_BUILD_COMMIT"), ")"),
    about = "A self-hosted VPN service: VLESS nodes, Telegram bot, website and billing in one binary"
)]
pub struct Cli {
    /// Configuration file. Without one, milly runs on embedded defaults in ./milly-data.
    #[arg(long, global = true, env = "MILLY_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: CliCommand,
}

pub const DEFAULT_CONFIG: &str = "./milly.toml";

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Write a commented milly.toml with freshly generated secrets (never overwrites).
    Init(InitArgs),
    /// Run everything configured until SIGINT or SIGTERM.
    Serve,
    /// Use a vless:// link from this machine: a local SOCKS5 proxy and forwarded ports.
    Client(ClientArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List payments and refund them.
    #[command(subcommand)]
    Payment(PaymentCommand),
    /// Promo codes: free days at once, or a discount on the next Stars invoice or card
    /// checkout. People enter them in the bot (/promo CODE) or on the checkout page.
    #[command(subcommand)]
    Promo(PromoCommand),
    /// The personal data milly keeps, and the retention rules that remove it.
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// Encrypted backups of the store (age format).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Generate keys.
    #[command(subcommand)]
    Keygen(KeygenCommand),
    /// The build (version and commit) and the database schema it expects.
    Version,
    /// Nodes in other places: register them (control plane); join and run one (node's server).
    #[command(subcommand)]
    Node(NodeCommand),
    /// Check what makes a deployment fail on day one, one line per check with its fix; exits
    /// non-zero when something is wrong. Run it before going live.
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// A CA certificate (PEM) trusted for the webhook check beside the public roots and the
    /// system's bundle: for a site whose certificate comes from a private CA.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Register a remote node and print its one-time join string (valid for an hour).
    Add(NodeAddArgs),
    /// Every node: location, address, online, version, feed revision, connections and bytes.
    List,
    /// One node in full.
    Show { name: String },
    /// Remove a node: its credential stops working at once.
    Remove { name: String },
    /// Leave a node out of links and subscriptions (it keeps its feed).
    Disable { name: String },
    /// Put a disabled node back into links and subscriptions.
    Enable { name: String },
    /// A new join string for a node: enrol it again, e.g. on a new server.
    Token { name: String },
    /// Change a node: location=TEXT, address=HOST:PORT, enabled=true|false, position=N, and
    /// for REALITY dest=HOST:PORT, server-name=NAME, server-names=NAME,NAME, keys=rotate (a new
    /// key pair and short id; no re-join), via=EXIT (an entry of a chain, with a new
    /// node-to-node key) or via=none. The node gets its new settings within a second; apps at
    /// their next subscription update. Keys its [nodes.NAME] section in milly.toml names are
    /// refused: the file wins.
    Set {
        name: String,
        #[arg(value_name = "KEY=VALUE", required = true)]
        changes: Vec<String>,
    },
    /// On the node's server: join the control plane with the join string `milly node add`
    /// printed, writing DIR/node.toml and the node's credential.
    Join {
        /// The join string (milly-join1.…), usable once.
        join: feed_wire::JoinString,
        /// Where node.toml, the credential and the cache go.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// On the node's server: run the data plane alone (no store, website or bot), fed by the
    /// control plane, from --config DIR/node.toml (default ./node.toml).
    Run,
}

#[derive(Debug, Args)]
pub struct NodeAddArgs {
    /// A short name for the operator (`eu-1`); links show the location.
    pub name: String,
    /// Where clients connect: the node server's public host and port.
    #[arg(long, value_name = "HOST:PORT")]
    pub address: String,
    /// Shown to users in their apps, e.g. "🇩🇪 Frankfurt". Default: the name.
    #[arg(long, value_name = "TEXT")]
    pub location: Option<String>,
    /// Make this node an entry: users' connections leave the internet from EXIT.
    #[arg(long, value_name = "EXIT")]
    pub via: Option<String>,
    /// REALITY (default: no certificate needed) or TLS (the certificate given with
    /// --certificate and --private-key, or a self-signed one clients are told to allow).
    #[arg(long, value_enum, default_value_t = SecurityChoice::Reality)]
    pub security: SecurityChoice,
    /// TLS: the node's certificate chain (PEM), e.g. Let's Encrypt's fullchain.pem for a
    /// domain pointing at the node. Needs --private-key; --address's host must be one of its names.
    #[arg(long, value_name = "FILE", requires = "private_key")]
    pub certificate: Option<PathBuf>,
    /// TLS: the private key (PEM) of --certificate.
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub private_key: Option<PathBuf>,
    /// REALITY: the site whose certificate the node mirrors and where strangers go.
    #[arg(long, value_name = "HOST:PORT")]
    pub dest: Option<String>,
    /// REALITY: the server name clients send (one of dest's names). Default: dest's host.
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// How clients carry VLESS to the node, each its own link: tcp, xhttp and grpc, and over
    /// --security tls also ws and httpupgrade (HTTP ones at a random secret path made here).
    #[arg(long, value_name = "LIST", default_value = "tcp")]
    pub transports: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecurityChoice {
    Reality,
    Tls,
}

#[derive(Debug, Subcommand)]
pub enum KeygenCommand {
    /// Print a REALITY X25519 key pair, a short id and an optional ML-DSA-65 seed and public key
    /// for [node.reality].
    Reality,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to write milly.toml into.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Also write systemd units (milly.service, milly-node.service) and the milly user's
    /// sysusers.d entry, running this binary; the data directory becomes /var/lib/milly.
    #[arg(long)]
    pub systemd: bool,
    /// Where --systemd writes the units.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/etc/systemd/system",
        requires = "systemd"
    )]
    pub unit_dir: PathBuf,
    /// Where --systemd writes milly.conf for systemd-sysusers.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/etc/sysusers.d",
        requires = "systemd"
    )]
    pub sysusers_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The vless:// link milly printed (quote it: it contains '&' and '#').
    #[arg(long, value_name = "LINK")]
    pub link: client::ClientLink,
    /// SOCKS5 address to listen on (default 127.0.0.1:1080 unless only --forward is given).
    #[arg(long, value_name = "ADDR")]
    pub socks: Option<std::net::SocketAddr>,
    /// Relay every connection to local port LOCAL (or IP:PORT) to HOST:PORT. Repeatable.
    #[arg(long, value_name = "LOCAL=HOST:PORT")]
    pub forward: Vec<client::Forward>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print their subscription URL and vless:// links.
    Add {
        #[arg(long, value_name = "N")]
        telegram_id: i64,
        /// Days of access to grant right away.
        #[arg(long, value_name = "D")]
        days: Option<u32>,
    },
    /// List users with their status.
    List {
        #[arg(long, default_value_t = 0)]
        offset: u32,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Show one user, their access and links. ID is the internal id or the Telegram id.
    Show { id: UserRef },
    /// Add days of access (to the end date if active, from now if expired).
    Extend {
        id: UserRef,
        #[arg(long, value_name = "D")]
        days: u32,
    },
    /// Block a user: access ends on every node within a second; data is kept.
    Block { id: UserRef },
    /// Lift a block.
    Unblock { id: UserRef },
    /// Erase a user: access ends, personal data is destroyed, payments stay unlinked.
    Delete { id: UserRef },
    /// Print everything stored about a user as JSON.
    Export { id: UserRef },
}

#[derive(Debug, Subcommand)]
pub enum PaymentCommand {
    /// List payments (amount, dates, status, provider; never card data), oldest first.
    List {
        /// Only this user's payments: the internal id or the Telegram id.
        #[arg(long, value_name = "ID")]
        user: Option<UserRef>,
    },
    /// Refund a payment in full: card payments through YooKassa, Stars through Telegram's
    /// refundStarPayment (needs [telegram] token). The days it bought are left in place.
    Refund { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum PromoCommand {
    /// Make a promo code. Codes are 3 to 24 letters A-Z, digits, '-' or '_', and case does not
    /// matter when people type them. Each person can use a code once.
    Add(PromoAddArgs),
    /// Every code: what it gives, its limits, whether it is on, and how often it was used.
    List,
    /// Stop a code working at once (people who enter it are told it is disabled). Uses already
    /// made stay.
    Disable {
        /// The code, in any case.
        code: String,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("benefit").required(true).args(["days", "percent"])))]
pub struct PromoAddArgs {
    /// The code people type, e.g. SPRING-25 (stored upper-case).
    pub code: String,
    /// Free days, added to the person's subscription as soon as they enter the code (1..=3650).
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// A discount of P percent (1..=99) on the price of their next Stars invoice or card
    /// checkout, rounded down but never below 1 star or 1 rouble. 100 is refused: such an
    /// invoice could not be paid; give free days with --days instead.
    #[arg(long, value_name = "P")]
    pub percent: Option<i64>,
    /// Only for this plan of [[plans]]: a discount only on it, free days only for people
    /// whose running subscription is on it.
    #[arg(long, value_name = "ID")]
    pub plan: Option<String>,
    /// How many uses in total, everyone together (each person still once). Default: no
    /// limit.
    #[arg(long, value_name = "N")]
    pub uses: Option<u32>,
    /// The last day it works, as an ISO date YYYY-MM-DD: it stops at the end of that day
    /// (23:59:59 UTC). Default: no end.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print it with secrets masked.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print every stored column: personal data with category, purpose and retention.
    Inventory,
    /// Apply the retention rules now (the daily job of `serve`); prints counts only.
    Purge {
        /// Only count what would be erased.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Write an encrypted snapshot of the store to [backup] recipients.
    Create {
        /// Where to write it; default: a new file in [backup] dir.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Restore a backup into the configured database, which must be empty.
    Restore {
        file: PathBuf,
        /// age identity file (AGE-SECRET-KEY-1...) of one of the recipients.
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
