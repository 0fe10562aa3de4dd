//! A control plane's feed endpoint for tests, written with `feed-wire` and tokio-rustls: it
//! accepts nodes over mutual TLS and hands each connection to the test, which scripts the
//! conversation (join answers, settings, snapshots, changes, pings).

use std::sync::Arc;
use std::time::Duration;

use feed_wire::tls::{peer_pin, server_config};
use feed_wire::{CertPin, JoinString, JoinToken, Parse, ToControl, ToNode};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a test waits for something the node should do.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The control plane's certificate and key.
pub struct ControlCredential {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Clone for ControlCredential {
    fn clone(&self) -> Self {
        ControlCredential {
            cert: self.cert.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl ControlCredential {
    pub fn generate() -> Self {
        let made =
            rcgen::generate_simple_self_signed(vec!["control.test".into()]).expect("a certificate");
        ControlCredential {
            cert: made.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()),
        }
    }

    pub fn pin(&self) -> CertPin {
        CertPin::of_der(&self.cert)
    }
}

/// A listening control plane; every node that completes the handshake becomes a [`Conn`].
pub struct FakeControl {
    pub address: String,
    pub credential: ControlCredential,
    conns: mpsc::UnboundedReceiver<Conn>,
    task: JoinHandle<()>,
}

impl Drop for FakeControl {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeControl {
    pub async fn start() -> Self {
        Self::start_with(ControlCredential::generate()).await
    }

    /// A control plane with a given certificate (the same one after a "restart").
    pub async fn start_with(credential: ControlCredential) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let config = server_config(
            credential.cert.clone(),
            PrivateKeyDer::Pkcs8(credential.key.clone_key()),
        )
        .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, conns) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    // A node that refuses our certificate fails here and never reaches the test.
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        let node_pin = peer_pin(stream.get_ref().1).expect("a client certificate");
                        let _ = tx.send(Conn {
                            node_pin,
                            stream,
                            buf: Vec::new(),
                        });
                    }
                });
            }
        });
        FakeControl {
            address,
            credential,
            conns,
            task,
        }
    }

    pub fn pin(&self) -> CertPin {
        self.credential.pin()
    }

    pub fn join_string(&self, token: [u8; 32]) -> JoinString {
        JoinString::new(&self.address, self.pin(), JoinToken::from_bytes(token)).expect("valid")
    }

    /// The next node connection.
    pub async fn accept(&mut self) -> Conn {
        tokio::time::timeout(PATIENCE, self.conns.recv())
            .await
            .expect("a node connects in time")
            .expect("the listener runs")
    }

    /// Whether a node completed a handshake within `wait`.
    pub async fn connected_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.conns.recv()).await.is_ok()
    }
}

/// One node's connection, as the control plane sees it.
pub struct Conn {
    /// The pin of the certificate the node presented.
    pub node_pin: CertPin,
    stream: TlsStream<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn send(&mut self, message: &ToNode) {
        let mut out = Vec::new();
        message.encode(&mut out).expect("encodable");
        self.stream.write_all(&out).await.expect("send to the node");
        self.stream.flush().await.expect("flush");
    }

    /// The next message from the node, or `None` once it closed.
    pub async fn next(&mut self) -> Option<ToControl> {
        loop {
            match ToControl::decode(&self.buf).expect("a valid frame") {
                Parse::Done { value, consumed } => {
                    self.buf.drain(..consumed);
                    return Some(value);
                }
                Parse::NeedMore => {
                    let read = tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf))
                        .await
                        .expect("the node says something in time");
                    if read.map_or(true, |n| n == 0) {
                        return None;
                    }
                }
            }
        }
    }

    /// The next message that is not a `Stats` report.
    pub async fn recv(&mut self) -> ToControl {
        loop {
            match self.next().await.expect("the node is still connected") {
                ToControl::Stats { .. } => continue,
                other => return other,
            }
        }
    }

    /// Waits until the node has handled everything sent before (a ping round trip).
    pub async fn sync(&mut self, nonce: u64) {
        self.send(&ToNode::Ping { nonce }).await;
        assert_eq!(self.recv().await, ToControl::Pong { nonce });
    }
}
