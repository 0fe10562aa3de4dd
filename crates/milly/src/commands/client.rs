//! `milly client`: a link's node as a local SOCKS5 proxy and forwarded ports, until SIGINT or
//! SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use anyhow::{Context, Result};
use client::{Counters, Outbound, Security};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::signal::shutdown_signal;
use crate::cli::ClientArgs;

/// Where SOCKS5 listens when neither `--socks` nor `--forward` is given.
const DEFAULT_SOCKS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 1080);

pub async fn run(args: ClientArgs) -> Result<()> {
    let outbound = Outbound::new(&args.link).context("cannot use this link")?;
    let socks = match (args.socks, args.forward.is_empty()) {
        (Some(addr), _) => Some(addr),
        (None, true) => Some(DEFAULT_SOCKS),
        (None, false) => None,
    };
    let shutdown = CancellationToken::new();
    let counters = Arc::new(Counters::default());
    let mut listeners = JoinSet::new();

    let security = match &args.link.security {
        Security::Tls { .. } => "TLS",
        Security::Reality { .. } => "REALITY",
    };
    println!("milly client: VLESS over {security} to the link's node");
    if let Some(addr) = socks {
        let listener = bind(addr).await?;
        println!("SOCKS5 listening on {}", listener.local_addr()?);
        listeners.spawn(client::serve_socks(
            listener,
            outbound.clone(),
            counters.clone(),
            shutdown.clone(),
        ));
    }
    for (n, forward) in args.forward.into_iter().enumerate() {
        let listener = bind(forward.listen).await?;
        println!("forward #{} listening on {}", n + 1, listener.local_addr()?);
        listeners.spawn(client::serve_forward(
            listener,
            forward.destination,
            outbound.clone(),
            counters.clone(),
            shutdown.clone(),
        ));
    }

    let signal = shutdown_signal().await?;
    println!("{signal}: shutting down");
    shutdown.cancel();
    while listeners.join_next().await.is_some() {}
    println!(
        "connections: {} accepted, {} failed",
        counters.accepted.load(Relaxed),
        counters.failed.load(Relaxed)
    );
    println!(
        "bytes spliced by direct copy: {}",
        counters.spliced.load(Relaxed)
    );
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}
