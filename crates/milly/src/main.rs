//! The milly binary: parses the command line, loads the configuration and runs the command.
//! Errors end here as one clear line on stderr and a non-zero exit.

mod admin_api;
mod cli;
mod commands;
mod data_dir;
mod embedded_node;
mod fd_budget;
mod feed;
mod panel_nodes;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// `outer: inner: root cause` on one line, each cause once.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Logs go to stderr, level from RUST_LOG (default: info for milly, warn for libraries).
/// The HTTP and TLS libraries stay at warn whatever RUST_LOG says: their debug and trace lines
/// describe each client's handshake, streams and headers, which for XHTTP and gRPC are users'
/// requests (no connection logs).
fn init_tracing() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,milly=info,node=info,node_agent=info,control=info,web=info,app=info,store=info,bot=info,billing=info",
        )
    });
    for quiet in ["h2=warn", "hyper=warn", "hyper_util=warn", "rustls=warn"] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    // Colours only for a person at a terminal, never escape codes in files or journald.
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
