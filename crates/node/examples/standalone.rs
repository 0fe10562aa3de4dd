//! A node on its own, for trying real clients and measuring by hand:
//! `cargo run --release -p node --example standalone -- LISTEN FALLBACK UUID [UUID...]`
//! with a self-signed certificate for "localhost" and private destinations allowed
//! (`MILLY_NODE_STRICT=1` refuses them). Prints its counters every 10 seconds.

use std::net::SocketAddr;
use std::time::Duration;

use node::{
    AccessEntry, AccessTable, AccessUpdate, CancellationToken, Node, NodeConfig, TlsSource,
};

fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: standalone LISTEN FALLBACK UUID [UUID...]".into());
    }
    let listen: SocketAddr = args[0].parse()?;
    let fallback: SocketAddr = args[1].parse()?;
    let entries = args[2..]
        .iter()
        .map(|u| {
            parse_uuid(u).map(|key| AccessEntry {
                key: vless::UserKey(key),
                expires_at: i64::MAX,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("a UUID is malformed")?;
    let tls = TlsSource::SelfSigned {
        names: vec!["localhost".into()],
        persist: None,
    };
    let mut config = NodeConfig::new(listen, tls, fallback);
    config.allow_private_destinations = std::env::var_os("MILLY_NODE_STRICT").is_none();
    let access = AccessTable::new();
    access.apply(AccessUpdate::Snapshot {
        revision: 1,
        entries,
    });
    let node = Node::new(config, access)?;
    let metrics = node.metrics();
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            println!("{:?}", metrics.snapshot());
        }
    });
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    node.run(listener, shutdown).await?;
    Ok(())
}
