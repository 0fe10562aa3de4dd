//! The way out: a connection to the node, wrapped as the link says, carrying one VLESS request.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use vless::{Command, Destination, Flow, Request, UserKey};

use crate::link::{ClientLink, Security};
use crate::tls;

/// How long dialling the node and its handshake may take together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a link cannot be used or the node cannot be reached. Never names an address or user.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("the link's server name is not a valid TLS server name")]
    ServerName,
    #[error("TLS setup: {0}")]
    Tls(#[from] rustls::Error),
    #[error("security=reality is not supported by this client yet")]
    RealityUnsupported,
    #[error("flow=xtls-rprx-vision needs security=reality in this client")]
    VisionNeedsReality,
    #[error("the node did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the node: {0}")]
    Io(#[from] io::Error),
}

/// A byte stream to the node, after its handshake and before the VLESS request.
pub trait NodeStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> NodeStream for T {}

/// Dials the node of one link. Cheap to clone; one per client process.
#[derive(Clone)]
pub struct Outbound {
    host: Arc<str>,
    port: u16,
    user: UserKey,
    server_name: ServerName<'static>,
    tls: TlsConnector,
}

impl Outbound {
    /// Checks that this client can speak what the link asks for.
    pub fn new(link: &ClientLink) -> Result<Self, OutboundError> {
        let allow_insecure = match &link.security {
            Security::Tls { allow_insecure } => *allow_insecure,
            Security::Reality { .. } => return Err(OutboundError::RealityUnsupported),
        };
        if link.vision {
            return Err(OutboundError::VisionNeedsReality);
        }
        let server_name = ServerName::try_from(link.server_name.clone())
            .map_err(|_| OutboundError::ServerName)?;
        let config = tls::client_config(allow_insecure)?;
        Ok(Outbound {
            host: link.host.as_str().into(),
            port: link.port,
            user: UserKey(link.user_id),
            server_name,
            tls: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Opens a connection to the node and sends the VLESS request for a TCP stream to
    /// `destination`. The node's response header is still to be read: see [`crate::relay`].
    pub async fn open_tcp(
        &self,
        destination: Destination,
    ) -> Result<Box<dyn NodeStream>, OutboundError> {
        let mut stream = tokio::time::timeout(CONNECT_TIMEOUT, self.handshake())
            .await
            .map_err(|_| OutboundError::Timeout(CONNECT_TIMEOUT))??;
        let mut header = Vec::with_capacity(64);
        vless::encode_request(
            &Request {
                user: self.user,
                flow: Flow::None,
                command: Command::Tcp,
                destination: Some(destination),
            },
            &mut header,
        );
        stream.write_all(&header).await?;
        stream.flush().await?;
        Ok(stream)
    }

    async fn handshake(&self) -> Result<Box<dyn NodeStream>, OutboundError> {
        let tcp = TcpStream::connect((&*self.host, self.port)).await?;
        tcp.set_nodelay(true)?;
        let tls = self.tls.connect(self.server_name.clone(), tcp).await?;
        Ok(Box::new(tls))
    }
}
