//! Logs go to stderr, level from RUST_LOG (default: info for milly, warn for libraries), as text
//! until the configuration says `[log] format = "json"`: the format is a reloadable layer, set
//! once the configuration is read (errors before that are plain lines).
//!
//! The HTTP and TLS libraries stay at warn whatever RUST_LOG says: their debug and trace lines
//! describe each client's handshake, streams and headers, which for XHTTP and gRPC are users'
//! requests (no connection logs).

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use config::LogFormat;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{reload, EnvFilter, Layer, Registry};

type FormatLayer = Box<dyn Layer<Registry> + Send + Sync>;

static FORMAT: OnceLock<reload::Handle<FormatLayer, Registry>> = OnceLock::new();

const DEFAULT_LEVELS: &str = "warn,milly=info,acme=info,node=info,node_agent=info,control=info,web=info,app=info,store=info,bot=info,billing=info";
const ALWAYS_QUIET: [&str; 4] = ["h2=warn", "hyper=warn", "hyper_util=warn", "rustls=warn"];

pub fn init() {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LEVELS));
    for quiet in ALWAYS_QUIET {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let (format, handle) = reload::Layer::new(layer(LogFormat::Text));
    let _ = FORMAT.set(handle);
    tracing_subscriber::registry()
        .with(format)
        .with(filter)
        .init();
}

/// Switches every later line to `format`.
pub fn set_format(format: LogFormat) {
    if let Some(handle) = FORMAT.get() {
        if let Err(err) = handle.reload(layer(format)) {
            eprintln!("warning: cannot switch the log format: {err}");
        }
    }
}

fn layer(format: LogFormat) -> FormatLayer {
    let base = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        // Colours only for a person at a terminal, never escape codes in files or journald.
        LogFormat::Text => base.with_ansi(std::io::stderr().is_terminal()).boxed(),
        LogFormat::Json => base
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed(),
    }
}
