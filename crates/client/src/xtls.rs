//! Relaying one local connection over a REALITY connection to the node, with XTLS Vision
//! (`flow=xtls-rprx-vision`) when the link asks: crate `xtls-stream`'s client role (the same
//! streams and relay the node runs, including Vision's direct copy spliced on Linux).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use vless::UserKey;
use xtls_stream::{RecordStream, Relay, Tally, VisionStream, BUFFER_SIZE};

/// How long the first write waits for the application's first bytes, so the VLESS request
/// travels with them; after it, an empty padding frame goes alone (Xray-core waits 100 ms).
pub const FIRST_DATA_WAIT: Duration = Duration::from_millis(100);

/// What one relay moved, and whether Vision switched each direction to direct copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relayed {
    /// Inner bytes from `local` to the peer.
    pub sent: u64,
    /// Inner bytes from the peer to `local`.
    pub received: u64,
    pub direct_out: bool,
    pub direct_in: bool,
    /// Of `sent` and `received`, bytes moved with splice(2) after the switch to direct copy.
    pub spliced: u64,
}

/// Relays `local` over `node` (the REALITY connection after its handshake) until both
/// directions ended. `request` is the VLESS request header; it goes out with the first bytes.
/// `vision` is the user id when the request's flow is Vision; `pipes` bounds splice's pipes.
pub async fn relay(
    mut local: TcpStream,
    mut node: RecordStream<TcpStream>,
    vision: Option<UserKey>,
    request: Vec<u8>,
    pipes: &Arc<Semaphore>,
) -> io::Result<Relayed> {
    let mut buf = vec![0u8; BUFFER_SIZE];
    let first = match tokio::time::timeout(FIRST_DATA_WAIT, local.read(&mut buf)).await {
        Ok(read) => Some(read?),
        Err(_) => None,
    };
    let initial = buf[..first.unwrap_or(0)].to_vec();
    let Some(user) = vision else {
        // Plain VLESS: the request and the first bytes in one record, then a plain copy.
        let early = initial.len() as u64;
        let mut head = request;
        head.extend_from_slice(&initial);
        node.write_all(&head).await?;
        node.flush().await?;
        let (sent, received) = crate::relay::relay(local, node).await?;
        return Ok(Relayed {
            sent: sent + early,
            received,
            direct_out: false,
            direct_in: false,
            spliced: 0,
        });
    };
    let mut node = VisionStream::client(&mut node, user, request);
    if first.is_none() {
        node.flush().await?;
    }
    let tally = Tally::default();
    Relay::new(&mut local, &mut node, initial, Vec::new(), &tally)
        .with_splice(pipes)
        .await?;
    let moved = tally.total();
    Ok(Relayed {
        sent: moved.up,
        received: moved.down,
        direct_out: node.is_write_direct(),
        direct_in: node.is_read_direct(),
        spliced: moved.spliced,
    })
}
