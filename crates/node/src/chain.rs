//! The entry side of an entry → exit chain: an entry node connects nobody out itself. Each
//! user's request goes on to the exit node over VLESS with REALITY (Vision for TCP and Mux,
//! plain for UDP, as Xray sends them) under the entry's node-to-node key, and what follows the
//! header is relayed as it is: TCP bytes, UDP frames, or Mux.Cool with XUDP, which the exit
//! already serves. The exit's egress policy applies and destinations see the exit's address.
//! Nothing about the connection is logged; a failure is a counter.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use vless::{Command, Flow, Request, UserKey};
use xtls_stream::{RecordStream, Relay, Transport, VisionStream, BUFFER_SIZE};

use crate::metrics::HandshakeFailure;
use crate::server::Shared;

/// How long dialling the exit and its REALITY handshake may take together.
pub const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the request to the exit waits for the user's first bytes, so that both travel in
/// one record (Xray-core's client waits as long).
const FIRST_DATA_WAIT: Duration = Duration::from_millis(100);
/// The Xray version the entry announces in its REALITY session id (milly's node accepts any).
const ANNOUNCED_VERSION: [u8; 3] = [25, 10, 15];

/// Where an entry node sends its users' connections: the exit's public address, its REALITY
/// public half, and the entry's node-to-node key that the exit accepts and no user holds.
#[derive(Clone, PartialEq, Eq)]
pub struct Upstream {
    pub host: String,
    pub port: u16,
    pub public_key: [u8; 32],
    pub short_id: [u8; 8],
    pub server_name: String,
    pub key: UserKey,
}

/// The key is a credential and the address says where the chain goes: neither prints.
impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").finish_non_exhaustive()
    }
}

impl Upstream {
    /// The REALITY client settings for dialling the exit.
    pub(crate) fn client_config(&self) -> reality::ClientConfig {
        reality::ClientConfig {
            server_name: self.server_name.clone(),
            public_key: self.public_key,
            short_id: self.short_id,
            version: ANNOUNCED_VERSION,
            post_quantum: true,
            mldsa65_verify: None,
        }
    }
}

/// The entry's way to its exit, built once when the node starts.
pub(crate) struct Chain {
    pub(crate) upstream: Upstream,
    pub(crate) reality: Arc<reality::ClientConfig>,
}

impl Chain {
    pub(crate) fn new(upstream: Upstream) -> Self {
        let reality = Arc::new(upstream.client_config());
        Chain { upstream, reality }
    }

    /// The request the exit receives for a user's `request`: the same command and
    /// destination under the node-to-node key.
    fn request_for(&self, request: &Request) -> Request {
        let vision = matches!(request.command, Command::Tcp | Command::Mux);
        Request {
            user: self.upstream.key,
            flow: if vision { Flow::Vision } else { Flow::None },
            command: request.command,
            destination: request.destination.clone(),
        }
    }

    async fn dial(&self) -> Option<RecordStream<TcpStream>> {
        let dialled = async {
            let tcp = TcpStream::connect((self.upstream.host.as_str(), self.upstream.port))
                .await
                .ok()?;
            let _ = tcp.set_nodelay(true);
            xtls_stream::connect(tcp, &self.reality).await.ok()
        };
        tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, dialled)
            .await
            .ok()
            .flatten()
    }
}

/// Carries an authorised request from `user` (after its header; `rest` is what came with it,
/// `vision` whether the user's flow is Vision) through the exit until either side ends.
pub(crate) async fn carry<S>(
    user: &mut S,
    request: &Request,
    rest: Vec<u8>,
    vision: bool,
    chain: &Chain,
    shared: &Shared,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Transport + Unpin + Send,
{
    let exit = {
        let Ok(_permit) = shared.connects.acquire().await else {
            return Ok(());
        };
        chain.dial().await
    };
    let Some(mut exit) = exit else {
        shared.metrics.failure(HandshakeFailure::ConnectFailed);
        return Ok(());
    };
    shared.metrics.session_started();
    let onward = chain.request_for(request);
    let mut header = Vec::with_capacity(64);
    vless::encode_request(&onward, &mut header);
    let mut response = Vec::with_capacity(2);
    vless::encode_response(&mut response);
    let idle = shared.config.idle_timeout;
    if onward.flow == Flow::None {
        // UDP: the exit's response header and frames reach the user unchanged.
        header.extend_from_slice(&rest);
        Relay::new(user, &mut exit, header, Vec::new(), &*shared.metrics)
            .with_idle_timeout(idle)
            .await?;
        return Ok(());
    }
    // TCP and Mux: Vision to the exit, which strips the exit's response; the entry answers
    // the user itself.
    let mut exit = VisionStream::client(&mut exit, chain.upstream.key, header);
    if vision {
        user.write_all(&response).await?;
        user.flush().await?;
        let mut inner = VisionStream::server(&mut *user, request.user, &rest)?;
        let first = first_bytes(&mut inner, &mut exit).await?;
        Relay::new(&mut inner, &mut exit, first, Vec::new(), &*shared.metrics)
            .with_idle_timeout(idle)
            .with_splice(&shared.pipes)
            .await?;
        return Ok(());
    }
    let first = if rest.is_empty() {
        first_bytes(user, &mut exit).await?
    } else {
        rest
    };
    Relay::new(user, &mut exit, first, response, &*shared.metrics)
        .with_idle_timeout(idle)
        .with_splice(&shared.pipes)
        .await?;
    Ok(())
}

/// The user's first bytes, to go out with the request to the exit; when none come within
/// [`FIRST_DATA_WAIT`] the request goes alone (a protocol where the server speaks first).
async fn first_bytes<U, E>(user: &mut U, exit: &mut E) -> io::Result<Vec<u8>>
where
    U: AsyncRead + Unpin,
    E: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUFFER_SIZE];
    let read = match tokio::time::timeout(FIRST_DATA_WAIT, user.read(&mut buf)).await {
        Ok(read) => read?,
        Err(_elapsed) => 0,
    };
    buf.truncate(read);
    if buf.is_empty() {
        // The request goes alone now (Vision sends it on the first flush).
        exit.flush().await?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use vless::{Address, Destination};

    use super::*;

    fn chain() -> Chain {
        Chain::new(Upstream {
            host: "exit.example.com".into(),
            port: 443,
            public_key: [1; 32],
            short_id: [2; 8],
            server_name: "www.example.com".into(),
            key: UserKey([0x77; 16]),
        })
    }

    fn request(command: Command, flow: Flow) -> Request {
        Request {
            user: UserKey([0x11; 16]),
            flow,
            command,
            destination: (command != Command::Mux).then(|| Destination {
                address: Address::Domain("example.org".into()),
                port: 443,
            }),
        }
    }

    #[test]
    fn the_exit_gets_the_users_request_under_the_entrys_key() {
        let chain = chain();
        for (command, flow) in [
            (Command::Tcp, Flow::Vision),
            (Command::Tcp, Flow::None),
            (Command::Mux, Flow::None),
            (Command::Udp, Flow::None),
        ] {
            let user = request(command, flow);
            let onward = chain.request_for(&user);
            assert_eq!(onward.user, UserKey([0x77; 16]));
            assert_eq!(onward.command, command);
            assert_eq!(onward.destination, user.destination);
            // The exit (a REALITY node) wants Vision for TCP and Mux; UDP goes plain.
            let vision = command != Command::Udp;
            assert_eq!(onward.flow == Flow::Vision, vision, "{command:?}");
        }
    }

    #[test]
    fn the_upstream_prints_neither_its_key_nor_where_it_goes() {
        let printed = format!("{:?}", chain().upstream);
        assert!(!printed.contains("exit.example.com") && !printed.contains("119"));
        let config = chain().upstream.client_config();
        assert_eq!((config.public_key, config.short_id), ([1; 32], [2; 8]));
    }
}
