//! TLS 1.3 connections on the node's own record layer: rustls runs the handshake (its
//! unbuffered API, so every byte it did not use is ours), then hands over the traffic keys,
//! and application data goes through `reality`'s record layer as REALITY's does. That layer
//! decrypts in place, one record at a time, and can hand back the bytes it has not decrypted,
//! so XTLS Vision's direct copy works over TLS too. Clients that do not offer TLS 1.3 keep
//! rustls's own stream (`server`).

use std::io;
use std::sync::Arc;

use reality::{CipherSuite, ClientHello, Parse, RecordLayer, TrafficKeys};
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, UnbufferedStatus};
use rustls::{ConnectionTrafficSecrets, ProtocolVersion, ServerConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;
use xtls_stream::RecordStream;

/// Bytes read at a time during the handshake.
const HANDSHAKE_READ: usize = 4096;
/// A client's whole handshake (ClientHello, then its Finished and perhaps a certificate we
/// never ask for) is far smaller; more is not a client worth waiting for.
const MAX_HANDSHAKE_BYTES: usize = 64 * 1024;

/// Why a TLS 1.3 handshake on the node's record layer failed. Nothing in it names the client.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Tls13Error {
    #[error("the handshake timed out")]
    Timeout,
    #[error("the client closed the connection during the handshake")]
    Closed,
    #[error("the client's handshake is too large")]
    TooLarge,
    #[error("socket: {0}")]
    Io(io::ErrorKind),
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("the handshake did not end in TLS 1.3 with one of its three cipher suites")]
    NotTls13,
    #[error("record layer: {0}")]
    RecordLayer(#[from] reality::TlsError),
}

/// What the first bytes of a TLS connection are, read until the ClientHello is complete.
pub(crate) enum FirstFlight {
    /// A ClientHello that offers TLS 1.3: the handshake can run here.
    Tls13(Vec<u8>),
    /// Anything else (TLS 1.2 only, a malformed or fragmented hello, not TLS at all): rustls's
    /// stream answers it exactly as it always did, starting from these bytes.
    Other(Vec<u8>),
}

/// Reads the connection's first flight until its ClientHello is complete (or it cannot be
/// one), within `deadline`.
pub(crate) async fn read_first_flight(
    tcp: &mut TcpStream,
    deadline: Instant,
) -> Result<FirstFlight, Tls13Error> {
    let mut read = Vec::with_capacity(HANDSHAKE_READ);
    loop {
        match ClientHello::read(&read) {
            Ok(Parse::Done { value, .. }) if value.offers_tls13() => {
                return Ok(FirstFlight::Tls13(read))
            }
            Ok(Parse::Done { .. }) | Err(_) => return Ok(FirstFlight::Other(read)),
            Ok(Parse::NeedMore) => {}
        }
        if read.len() >= MAX_HANDSHAKE_BYTES {
            return Ok(FirstFlight::Other(read));
        }
        read_more(tcp, &mut read, deadline).await?;
    }
}

/// Runs the server side of a TLS 1.3 handshake on `tcp`, starting from `received` (the first
/// flight), and returns the connection on the node's record layer, with any application data
/// that came with the client's Finished still to be read.
pub(crate) async fn accept(
    mut tcp: TcpStream,
    config: Arc<ServerConfig>,
    mut received: Vec<u8>,
    deadline: Instant,
) -> Result<RecordStream<TcpStream>, Tls13Error> {
    let mut conn = UnbufferedServerConnection::new(config)?;
    let mut outgoing: Vec<u8> = Vec::new();
    // Application data rustls decrypted while finishing the handshake (a client may send its
    // request right behind its Finished).
    let mut early_plaintext = Vec::new();
    let mut peer_closed = false;
    loop {
        let UnbufferedStatus { mut discard, state } = conn.process_tls_records(&mut received);
        let mut wants_more = false;
        let mut may_write = false;
        match state? {
            ConnectionState::EncodeTlsData(mut encode) => {
                let start = outgoing.len();
                outgoing.resize(start + HANDSHAKE_READ, 0);
                let written = loop {
                    match encode.encode(&mut outgoing[start..]) {
                        Ok(n) => break n,
                        Err(EncodeError::InsufficientSize(short)) => {
                            outgoing.resize(start + short.required_size, 0);
                        }
                        Err(EncodeError::AlreadyEncoded) => break 0,
                    }
                };
                outgoing.truncate(start + written);
            }
            ConnectionState::TransmitTlsData(transmit) => {
                write_all(&mut tcp, &outgoing, deadline).await?;
                outgoing.clear();
                transmit.done();
            }
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    let record = record?;
                    discard += record.discard;
                    early_plaintext.extend_from_slice(record.payload);
                }
            }
            ConnectionState::BlockedHandshake => wants_more = true,
            ConnectionState::WriteTraffic(_) => may_write = true,
            // A client may send its request and close_notify right behind its Finished.
            ConnectionState::PeerClosed => peer_closed = true,
            ConnectionState::Closed => return Err(Tls13Error::Closed),
            // No early data is enabled; anything newer is not something this loop knows.
            _ => return Err(Tls13Error::NotTls13),
        }
        received.drain(..discard);
        if peer_closed && conn.is_handshaking() {
            return Err(Tls13Error::Closed);
        }
        if may_write {
            // The server may write before the client's Finished arrives: done only after it.
            if !conn.is_handshaking() {
                break;
            }
            wants_more = true;
        }
        if wants_more {
            if received.len() >= MAX_HANDSHAKE_BYTES {
                return Err(Tls13Error::TooLarge);
            }
            read_more(&mut tcp, &mut received, deadline).await?;
        }
    }
    if conn.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
        return Err(Tls13Error::NotTls13);
    }
    let suite = conn
        .negotiated_cipher_suite()
        .and_then(|s| CipherSuite::from_id(u16::from(s.suite())))
        .ok_or(Tls13Error::NotTls13)?;
    // Dropping the kernel connection gives up its key updates: a KeyUpdate from the client
    // ends the connection (`reality::TlsError::KeyUpdate`), as it does on REALITY.
    let (secrets, _kernel) = conn.dangerous_into_kernel_connection()?;
    let tx = traffic_keys(suite, secrets.tx)?;
    let rx = traffic_keys(suite, secrets.rx)?;
    let layer = RecordLayer::from_keys(suite, tx, rx, received)?;
    Ok(RecordStream::tls13(
        tcp,
        layer,
        early_plaintext,
        peer_closed,
    ))
}

/// One direction's keys from rustls's extracted secrets, if they are the suite's.
fn traffic_keys(
    suite: CipherSuite,
    (seq, secrets): (u64, ConnectionTrafficSecrets),
) -> Result<TrafficKeys, Tls13Error> {
    let (key, iv) = match (suite, secrets) {
        (CipherSuite::Aes128GcmSha256, ConnectionTrafficSecrets::Aes128Gcm { key, iv })
        | (CipherSuite::Aes256GcmSha384, ConnectionTrafficSecrets::Aes256Gcm { key, iv })
        | (
            CipherSuite::Chacha20Poly1305Sha256,
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv },
        ) => (key, iv),
        _ => return Err(Tls13Error::NotTls13),
    };
    let iv: [u8; 12] = iv.as_ref().try_into().map_err(|_| Tls13Error::NotTls13)?;
    Ok(TrafficKeys {
        key: key.as_ref().to_vec(),
        iv,
        seq,
    })
}

async fn read_more(
    tcp: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<(), Tls13Error> {
    buf.reserve(HANDSHAKE_READ);
    match tokio::time::timeout_at(deadline, tcp.read_buf(buf)).await {
        Err(_elapsed) => Err(Tls13Error::Timeout),
        Ok(Ok(0)) => Err(Tls13Error::Closed),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Tls13Error::Io(e.kind())),
    }
}

async fn write_all(tcp: &mut TcpStream, bytes: &[u8], deadline: Instant) -> Result<(), Tls13Error> {
    match tokio::time::timeout_at(deadline, tcp.write_all(bytes)).await {
        Err(_elapsed) => Err(Tls13Error::Timeout),
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Tls13Error::Io(e.kind())),
    }
}
