//! One connection to the control plane: TCP, mutual TLS with the pinned certificate, and frames of `feed-wire` messages both ways.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use feed_wire::{FrameError, Parse, ToControl, ToNode};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Bytes read from the socket at a time (a frame may need many reads).
const READ_CHUNK: usize = 64 * 1024;

/// Why a connection to the control plane failed or ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot reach the control plane at {address}: {source}")]
    Connect { address: String, source: io::Error },
    #[error("the control plane did not answer in time")]
    Timeout,
    #[error(
        "the control plane's certificate is not the one pinned in the join string or node.toml"
    )]
    WrongCertificate,
    #[error("the TLS handshake with the control plane failed: {0}")]
    Handshake(io::Error),
    #[error("the connection to the control plane failed: {0}")]
    Io(#[from] io::Error),
    #[error("the control plane closed the connection")]
    Closed,
    #[error("the control plane sent a bad frame: {0}")]
    Frame(#[from] FrameError),
    #[error("the control plane broke the protocol: {0}")]
    Protocol(&'static str),
}

/// A framed, mutually authenticated connection to the control plane.
pub(crate) struct Link {
    stream: TlsStream<TcpStream>,
    buf: Vec<u8>,
    /// Where the first unread byte of `buf` is.
    start: usize,
    out: Vec<u8>,
}

/// `host` of `host:port`, without an IPv6 address's brackets.
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Whether a failed handshake failed because the server's certificate is not the pinned one.
fn is_wrong_certificate(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}

impl Link {
    /// Dials `address` and completes the TLS handshake, each within `timeout`.
    pub(crate) async fn dial(
        address: &str,
        tls: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Result<Link, LinkError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .map_err(|_| LinkError::Timeout)?
            .map_err(|source| LinkError::Connect {
                address: address.to_owned(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        // The pin decides which certificate is accepted; the name is only what is sent as SNI.
        let name = ServerName::try_from(host_of(address).to_owned())
            .unwrap_or_else(|_| ServerName::try_from("milly-control").expect("a valid name"));
        let stream = tokio::time::timeout(timeout, TlsConnector::from(tls).connect(name, tcp))
            .await
            .map_err(|_| LinkError::Timeout)?
            .map_err(|e| {
                if is_wrong_certificate(&e) {
                    LinkError::WrongCertificate
                } else {
                    LinkError::Handshake(e)
                }
            })?;
        Ok(Link {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            out: Vec::new(),
        })
    }

    /// Sends one message.
    pub(crate) async fn send(&mut self, message: &ToControl) -> Result<(), LinkError> {
        self.out.clear();
        message.encode(&mut self.out)?;
        self.stream.write_all(&self.out).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// The next message. Cancel-safe: bytes read before a cancellation stay buffered.
    pub(crate) async fn recv(&mut self) -> Result<ToNode, LinkError> {
        loop {
            if let Parse::Done { value, consumed } = ToNode::decode(&self.buf[self.start..])? {
                self.start += consumed;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                return Ok(value);
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            self.buf.reserve(READ_CHUNK);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(LinkError::Closed);
            }
        }
    }

    /// Closes the TLS session politely (best effort).
    pub(crate) async fn close(mut self) {
        let _ = self.stream.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_the_host_without_port_or_brackets() {
        assert_eq!(host_of("control.example.com:7443"), "control.example.com");
        assert_eq!(host_of("[2001:db8::1]:7443"), "2001:db8::1");
        assert_eq!(host_of("192.0.2.1:1"), "192.0.2.1");
    }
}
