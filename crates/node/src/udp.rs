//! The UDP command: datagrams to one destination, each framed with a 2-byte length on the stream.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::time::Instant;
use vless::{Destination, Parse};

use crate::server::Shared;
use crate::session::{egress_failure, host};

/// Largest datagram received from the destination (the frame length limit).
const MAX_DATAGRAM: usize = vless::udp::MAX_PAYLOAD;
/// Bytes read from the client at a time.
const STREAM_READ: usize = 16 * 1024;

/// Relays datagrams between the client's stream and one destination until either side ends,
/// an error, or the idle timeout.
pub(crate) async fn serve<S>(
    stream: &mut S,
    destination: &Destination,
    rest: Vec<u8>,
    response: Vec<u8>,
    local: Option<IpAddr>,
    shared: &Shared,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let addrs = match shared
        .egress
        .resolve(host(destination), destination.port, local)
        .await
    {
        Ok(addrs) => addrs,
        Err(e) => {
            shared.metrics.failure(egress_failure(&e));
            return Ok(());
        }
    };
    let Some(&target) = addrs.first() else {
        return Ok(());
    };
    let socket = bind_for(target).await?;
    socket.connect(target).await?;
    shared.metrics.session_started();
    stream.write_all(&response).await?;
    stream.flush().await?;

    let idle = shared.config.idle_timeout;
    let mut from_client = rest;
    let mut to_client = Vec::new();
    let mut datagram = vec![0u8; MAX_DATAGRAM];
    let mut up = 0u64;
    let mut down = 0u64;
    let mut deadline = Instant::now() + idle;
    let result = loop {
        // Send every complete frame the client has sent so far.
        let mut used = 0;
        while let Parse::Done(payload, n) = vless::udp::decode_packet(&from_client[used..]) {
            // A datagram the destination refuses (ICMP) is dropped, as on any UDP path.
            let _ = socket.send(payload).await;
            up += payload.len() as u64;
            used += n;
        }
        from_client.drain(..used);
        from_client.reserve(STREAM_READ);

        tokio::select! {
            read = stream.read_buf(&mut from_client) => match read {
                Ok(0) => break Ok(()),
                Ok(_) => deadline = Instant::now() + idle,
                Err(e) => break Err(e),
            },
            received = socket.recv(&mut datagram) => {
                // Errors here are ICMP reports on a connected socket; the session goes on.
                if let Ok(n) = received {
                    to_client.clear();
                    if vless::udp::encode_packet(&datagram[..n], &mut to_client).is_ok() {
                        if let Err(e) = stream.write_all(&to_client).await {
                            break Err(e);
                        }
                        if let Err(e) = stream.flush().await {
                            break Err(e);
                        }
                        down += n as u64;
                    }
                    deadline = Instant::now() + idle;
                }
            }
            _ = tokio::time::sleep_until(deadline) => break Ok(()),
        }
    };
    shared.metrics.add_bytes(up, down);
    let _ = stream.shutdown().await;
    result
}

/// A UDP socket on an ephemeral port of the destination's address family.
async fn bind_for(target: SocketAddr) -> io::Result<UdpSocket> {
    let any: SocketAddr = match target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    UdpSocket::bind(any).await
}
