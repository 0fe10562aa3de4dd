//! The load side of `bench/run`: writes sing-box configs from a link, measures connections per
//! second through a SOCKS client, and holds many idle proxied connections open.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use testkit::singbox::{self, ClientOptions};
use testkit::{socks, EchoMode, TcpEcho};

/// Idle connections opened at once; more only queues inside the client.
const OPEN_BATCH: usize = 256;

#[derive(Parser)]
#[command(about = "Load generator for bench/run")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a sing-box client config for a vless:// link.
    ClientConfig {
        #[arg(long)]
        link: String,
        #[arg(long)]
        socks: SocketAddr,
        /// LISTEN=TARGET port forward through the node (repeatable).
        #[arg(long, value_parser = parse_forward)]
        forward: Vec<(SocketAddr, SocketAddr)>,
    },
    /// Write a self-signed certificate into DIR and print a sing-box VLESS+TLS server config.
    ServerConfig {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        user: String,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Open, use (1 byte each way) and close connections through SOCKS for SECONDS; print the rate.
    Rate {
        #[arg(long)]
        socks: SocketAddr,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Open COUNT connections through SOCKS to the echo at TARGET, use each once, print
    /// `ready`, then hold them idle until stdin closes.
    Idle {
        #[arg(long)]
        socks: SocketAddr,
        #[arg(long)]
        target: SocketAddr,
        #[arg(long)]
        count: usize,
    },
    /// Run a TCP echo server on 127.0.0.1, print its address, serve until killed. A process of
    /// its own, so the far ends of idle connections do not share our descriptor limit.
    Echo,
}

fn parse_forward(s: &str) -> Result<(SocketAddr, SocketAddr), String> {
    let (l, t) = s.split_once('=').ok_or("expected LISTEN=TARGET")?;
    Ok((
        l.parse().map_err(|e| format!("{l}: {e}"))?,
        t.parse().map_err(|e| format!("{t}: {e}"))?,
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-load: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::ClientConfig {
            link,
            socks,
            forward,
        } => {
            let link = client::ClientLink::parse(&link)?;
            let options = ClientOptions {
                forwards: forward,
                ..Default::default()
            };
            println!("{}", singbox::client_config(&link, socks, &options)?);
        }
        Command::ServerConfig { listen, user, dir } => {
            let (cert, key) = testkit::tls::write_self_signed(&dir, &["localhost"])?;
            println!("{}", singbox::server_config(listen, &[&user], &cert, &key));
        }
        Command::Rate {
            socks,
            seconds,
            concurrency,
        } => rate(socks, Duration::from_secs(seconds), concurrency).await?,
        Command::Idle {
            socks,
            target,
            count,
        } => idle(socks, target, count).await?,
        Command::Echo => {
            let echo = TcpEcho::start(EchoMode::Stream).await?;
            println!("{}", echo.addr());
            std::future::pending::<()>().await;
        }
    }
    Ok(())
}

/// One short connection: connect through the proxy, one byte there and back, close.
async fn one_byte(proxy: SocketAddr, echo: SocketAddr) -> Result<TcpStream, Error> {
    let mut s = socks::connect(proxy, echo).await?;
    s.write_all(b"x").await?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await?;
    Ok(s)
}

async fn rate(proxy: SocketAddr, duration: Duration, concurrency: usize) -> Result<(), Error> {
    let echo = TcpEcho::start(EchoMode::Stream).await?;
    let target = echo.addr();
    // Warm-up: the first connection pays for lazy setup on both sides.
    one_byte(proxy, target).await?;
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (done, failed) = (done.clone(), failed.clone());
        workers.spawn(async move {
            while start.elapsed() < duration {
                match one_byte(proxy, target).await {
                    Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let secs = start.elapsed().as_secs_f64();
    let ok = done.load(Ordering::Relaxed);
    println!(
        "connections_per_second {:.1} completed {ok} failed {}",
        ok as f64 / secs,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

async fn idle(proxy: SocketAddr, target: SocketAddr, count: usize) -> Result<(), Error> {
    let mut held = Vec::with_capacity(count);
    let mut failed = 0usize;
    while held.len() + failed < count {
        let batch = OPEN_BATCH.min(count - held.len() - failed);
        let mut set = JoinSet::new();
        for _ in 0..batch {
            set.spawn(one_byte(proxy, target));
        }
        while let Some(r) = set.join_next().await {
            match r? {
                Ok(s) => held.push(s),
                Err(_) => failed += 1,
            }
        }
    }
    println!("ready {} failed {failed}", held.len());
    // Hold until whoever started us closes our stdin.
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while lines.next_line().await?.is_some() {}
    drop(held);
    Ok(())
}
