//! The way out: a connection to the node, wrapped as the link says, carrying one VLESS request.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;
use vless::{Command, Destination, Flow, Request, UserKey};
use xtls_stream::{ConnectError, RecordStream};

use crate::link::{ClientLink, LinkTransport, Security};
use crate::tls;
use crate::xtls::{self, Relayed};

/// How long dialling the node and its handshake may take together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The Xray version a REALITY client announces in its session id (REALITY servers may
/// restrict it; milly's node does not).
pub const ANNOUNCED_VERSION: [u8; 3] = [25, 10, 15];

/// Why a link cannot be used or the node cannot be reached. Never names an address or user.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("the link's server name is not a valid TLS server name")]
    ServerName,
    #[error("TLS setup: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the link's pbk is not an X25519 public key")]
    PublicKey,
    #[error("the link's sid is not a short id")]
    ShortId,
    #[error("the link's pqv is not an ML-DSA-65 public key")]
    Mldsa65Key,
    #[error("type={0} is not spoken by this client yet; use the node's type=tcp link")]
    Transport(&'static str),
    #[error("flow=xtls-rprx-vision needs security=reality in this client")]
    VisionNeedsReality,
    #[error("REALITY handshake failed: {0} (a certificate error means the answer came from the cover site: check pbk, sid, sni and pqv)")]
    Reality(#[from] reality::TlsError),
    #[error("the node closed the connection during the handshake")]
    ClosedInHandshake,
    #[error("the node did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the node: {0}")]
    Io(#[from] io::Error),
}

/// A byte stream to the node, after its handshake and before the VLESS request.
pub trait NodeStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> NodeStream for T {}

#[derive(Clone)]
enum Wrap {
    Tls {
        connector: TlsConnector,
        server_name: ServerName<'static>,
    },
    Reality(Arc<reality::ClientConfig>),
}

/// Dials the node of one link. Cheap to clone; one per client process.
#[derive(Clone)]
pub struct Outbound {
    host: Arc<str>,
    port: u16,
    user: UserKey,
    vision: bool,
    wrap: Wrap,
    /// Pipes for splice(2), two per connection in direct copy: as many as the listeners' caps
    /// allow, so this only names the budget the relay asks for.
    pipes: Arc<Semaphore>,
}

/// A connection to the node that is ready to carry one local connection.
pub enum Opened {
    /// TLS, the VLESS request already sent.
    Tls(Box<dyn NodeStream>),
    /// REALITY after its handshake; the request goes out with the first bytes.
    Reality {
        stream: Box<RecordStream<TcpStream>>,
        /// The user id, when the flow is Vision.
        vision: Option<UserKey>,
        request: Vec<u8>,
        pipes: Arc<Semaphore>,
    },
}

impl Opened {
    /// Relays `local` through the node until both directions ended.
    pub async fn relay(self, local: TcpStream) -> io::Result<Relayed> {
        match self {
            Opened::Tls(stream) => {
                let (sent, received) = crate::relay::relay(local, stream).await?;
                Ok(Relayed {
                    sent,
                    received,
                    direct_out: false,
                    direct_in: false,
                    spliced: 0,
                })
            }
            Opened::Reality {
                stream,
                vision,
                request,
                pipes,
            } => xtls::relay(local, *stream, vision, request, &pipes).await,
        }
    }
}

impl Outbound {
    /// Checks that this client can speak what the link asks for.
    pub fn new(link: &ClientLink) -> Result<Self, OutboundError> {
        if link.transport != LinkTransport::Tcp {
            return Err(OutboundError::Transport(link.transport.name()));
        }
        let wrap = match &link.security {
            Security::Tls { allow_insecure } => {
                if link.vision {
                    return Err(OutboundError::VisionNeedsReality);
                }
                Wrap::Tls {
                    connector: TlsConnector::from(Arc::new(tls::client_config(*allow_insecure)?)),
                    server_name: ServerName::try_from(link.server_name.clone())
                        .map_err(|_| OutboundError::ServerName)?,
                }
            }
            Security::Reality {
                public_key,
                short_id,
                mldsa65_verify,
            } => Wrap::Reality(Arc::new(reality::ClientConfig {
                server_name: link.server_name.clone(),
                public_key: reality::decode_key(public_key)
                    .map_err(|_| OutboundError::PublicKey)?,
                short_id: reality::parse_short_id(short_id).map_err(|_| OutboundError::ShortId)?,
                version: ANNOUNCED_VERSION,
                // fp=chrome (all milly prints): today's Chrome offers X25519MLKEM768.
                post_quantum: true,
                mldsa65_verify: mldsa65_verify
                    .as_deref()
                    .map(reality::Mldsa65PublicKey::decode)
                    .transpose()
                    .map_err(|_| OutboundError::Mldsa65Key)?,
            })),
        };
        Ok(Outbound {
            host: link.host.as_str().into(),
            port: link.port,
            user: UserKey(link.user_id),
            vision: link.vision,
            wrap,
            pipes: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
        })
    }

    /// Opens a connection to the node for a TCP stream to `destination`.
    pub async fn open_tcp(&self, destination: Destination) -> Result<Opened, OutboundError> {
        let mut request = Vec::with_capacity(64);
        vless::encode_request(
            &Request {
                user: self.user,
                flow: if self.vision {
                    Flow::Vision
                } else {
                    Flow::None
                },
                command: Command::Tcp,
                destination: Some(destination),
            },
            &mut request,
        );
        tokio::time::timeout(CONNECT_TIMEOUT, self.handshake(request))
            .await
            .map_err(|_| OutboundError::Timeout(CONNECT_TIMEOUT))?
    }

    async fn handshake(&self, request: Vec<u8>) -> Result<Opened, OutboundError> {
        let tcp = TcpStream::connect((&*self.host, self.port)).await?;
        tcp.set_nodelay(true)?;
        match &self.wrap {
            Wrap::Tls {
                connector,
                server_name,
            } => {
                let mut tls = connector.connect(server_name.clone(), tcp).await?;
                tls.write_all(&request).await?;
                tls.flush().await?;
                Ok(Opened::Tls(Box::new(tls)))
            }
            Wrap::Reality(config) => {
                let stream = xtls_stream::connect(tcp, config)
                    .await
                    .map_err(|e| match e {
                        ConnectError::Reality(e) => OutboundError::Reality(e),
                        ConnectError::Closed => OutboundError::ClosedInHandshake,
                        ConnectError::Io(e) => OutboundError::Io(e),
                    })?;
                Ok(Opened::Reality {
                    stream: Box::new(stream),
                    vision: self.vision.then_some(self.user),
                    request,
                    pipes: self.pipes.clone(),
                })
            }
        }
    }
}
