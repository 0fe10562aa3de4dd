//! REALITY (XTLS/REALITY, Xray-core's `security = "reality"`) on an own sans-I/O TLS 1.3.
//!
//! Nothing here touches a socket: the node (server) and `milly client` feed bytes in and
//! take bytes out.
//!
//! - [`ClientHello::read`] parses the first flight of a connection (partial input is
//!   [`Parse::NeedMore`], malformed input a [`ParseError`], never a panic).
//! - [`ServerConfig::authenticate`] decides whether a ClientHello is a REALITY client's:
//!   AuthKey = HKDF-SHA256(X25519(server key, client share), salt = random[..20],
//!   info "REALITY"); the session id is AES-256-GCM(AuthKey, nonce = random[20..],
//!   AAD = the ClientHello with a zeroed session id) over version, time and short id.
//!   [`ReplayFilter`] remembers recently seen ClientHellos.
//! - [`ServerHandshake`] answers an authenticated client with a TLS 1.3 handshake whose
//!   certificate is an Ed25519 certificate signed with HMAC-SHA512(AuthKey, public key),
//!   optionally shaped like `dest`'s answer ([`DestProfile`]). With an ML-DSA-65 key
//!   ([`RealityCert::generate_with_mldsa65`], Xray's `mldsa65Seed`) the certificate also
//!   carries an ML-DSA-65 signature of that HMAC continued over ClientHello and ServerHello.
//! - [`ClientHandshake`] is the other end: a Chrome-shaped ClientHello carrying the REALITY
//!   session id, and the check of the HMAC certificate (and of the ML-DSA-65 signature when
//!   [`ClientConfig::mldsa65_verify`] is set, Xray's `mldsa65Verify`).
//! - [`Acceptor`] strings these together for the node: mirror to `dest`, decide, and
//!   either relay or hand over a started [`ServerHandshake`].
//! - Both end in a [`RecordLayer`] that protects application data and can hand back the
//!   raw bytes it has buffered but not decrypted (XTLS Vision's switch to direct copy).
//!
//! # Driving it from the node
//!
//! Per process: a [`ServerConfig`] (from `[node.reality]`: `private_key` via [`decode_key`],
//! `short_ids` via [`parse_short_id`], `server_names`, `max_time_diff`), one
//! [`RealityCert::generate`] (or [`RealityCert::generate_with_mldsa65`] with
//! [`Mldsa65SigningKey::from_seed`] of `mldsa65_seed`), [`ServerOptions::default`] and a shared
//! `Mutex<`[`ReplayFilter`]`>`. Per connection (see `tests/loopback.rs` for a blocking
//! version of exactly this):
//!
//! 1. Dial `dest` at once; make an [`Acceptor`] with the arrival time.
//! 2. Client bytes: if [`Acceptor::is_mirroring`], write them to `dest`; then
//!    [`Acceptor::client_bytes`]. `dest` bytes: [`Acceptor::dest_bytes`] (never forwarded
//!    before the decision). Apply a handshake timeout to this phase.
//! 3. [`Next::Relay`]: write `to_client` to the client and `to_dest` to `dest`, then the
//!    ordinary byte-for-byte relay with half-close both ways (the fallback path).
//! 4. [`Next::Accept`]: close `dest`, write `handshake.poll_output()`, feed
//!    `client_pending` and further client bytes to [`ServerHandshake::feed`] until it
//!    returns `true`, then [`ServerHandshake::into_record_layer`].
//! 5. VLESS over the [`RecordLayer`]: [`RecordLayer::read`] one record at a time into the
//!    VLESS parser and then `vless::Vision::read`; when Vision reports `ReadMode::Direct`,
//!    take [`RecordLayer::take_buffered`] as raw inner bytes and read the socket raw from
//!    then on. Writes go through [`RecordLayer::write`] until Vision's write side turns
//!    direct, then raw to the socket.
//!
//! `milly client` does the mirror image with [`ClientConfig`] (from the link's `sni`, `pbk`,
//! `sid`, `pqv` via [`Mldsa65PublicKey::decode`]; `fp=chrome` = `post_quantum: true`) and
//! [`ClientHandshake`].
#![forbid(unsafe_code)]

mod acceptor;
mod auth;
mod cert;
mod client;
mod client_hello;
mod hello;
mod kex;
mod key_schedule;
mod keys;
mod layer;
mod messages;
mod mldsa65;
mod profile;
mod protect;
mod record;
mod replay;
mod rng;
mod server;
mod suite;
mod wire;

pub use acceptor::{Acceptor, Next, RelayReason};
pub use auth::{parse_short_id, Authenticated, Reject, ServerConfig, ShortIdError};
pub use cert::{verify_reality_certificate, verify_reality_certificate_mldsa65, RealityCert};
pub use client::{ClientConfig, ClientHandshake};
pub use client_hello::{ClientHello, KeyShare, SESSION_ID_OFFSET, TLS13, X25519, X25519_MLKEM768};
pub use hello::{ChromeHello, HelloParams};
pub use keys::{decode_key, encode_key, generate_private_key, public_key, KeyFormatError};
pub use layer::{Received, RecordLayer, TrafficKeys};
pub use mldsa65::{
    Mldsa65KeyError, Mldsa65PublicKey, Mldsa65SigningKey, MLDSA65_PUBLIC_KEY_LEN,
    MLDSA65_SIGNATURE_LEN,
};
pub use parse_outcome::Parse;
pub use profile::{DestChoice, DestProfile, ProfileError, MAX_PROFILE_BYTES};
pub use record::{ContentType, MAX_PLAINTEXT, RECORD_HEADER_LEN};
pub use replay::ReplayFilter;
pub use rng::{Rng, SystemRng};
pub use server::{ServerHandshake, ServerOptions};
pub use suite::CipherSuite;

/// Entry points for the fuzz targets in `fuzz/` and their stable tests; not an API.
///
/// The record layer is otherwise only reachable through a whole handshake; these give one
/// keyed from fixed secrets, and the peer's sealing side with any content type and padding.
#[doc(hidden)]
pub mod fuzzing {
    use crate::protect::Protector;
    use crate::{CipherSuite, ContentType, RecordLayer, TlsError, MAX_PLAINTEXT};

    /// A traffic secret of the suite's hash length, every byte `byte`.
    fn secret(suite: CipherSuite, byte: u8) -> Vec<u8> {
        vec![byte; suite.hash().len()]
    }

    /// A record layer as after a handshake: it writes with the secret made of `tx` bytes and
    /// reads records protected with the one made of `rx` bytes.
    pub fn record_layer(suite: CipherSuite, tx: u8, rx: u8) -> RecordLayer {
        RecordLayer::new(
            Protector::new(suite, &secret(suite, tx)),
            Protector::new(suite, &secret(suite, rx)),
            Vec::new(),
        )
    }

    /// The peer's side of one direction: protects records the way a [`RecordLayer`] reads them.
    #[derive(Debug)]
    pub struct Sealer(Protector);

    impl Sealer {
        /// Seals with the secret made of `tx` bytes (see [`record_layer`]).
        pub fn new(suite: CipherSuite, tx: u8) -> Sealer {
            Sealer(Protector::new(suite, &secret(suite, tx)))
        }

        /// Appends one record carrying `payload` (cut to [`MAX_PLAINTEXT`]) of type `kind`
        /// and `padding` zero bytes inside the encryption.
        pub fn seal(
            &mut self,
            kind: ContentType,
            payload: &[u8],
            padding: usize,
            out: &mut Vec<u8>,
        ) -> Result<(), TlsError> {
            let payload = &payload[..payload.len().min(MAX_PLAINTEXT)];
            self.0.seal(kind, payload, padding, out)
        }
    }
}

/// Malformed TLS input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a TLS handshake record")]
    NotHandshake,
    #[error("record version is not TLS")]
    BadRecordVersion,
    #[error("record length out of range")]
    BadRecordLength,
    #[error("handshake message is not a ClientHello")]
    NotClientHello,
    #[error("unexpected handshake message")]
    UnexpectedMessage,
    #[error("handshake message too large")]
    TooLarge,
    #[error("{0} is truncated")]
    Truncated(&'static str),
    #[error("bytes left over after {0}")]
    TrailingBytes(&'static str),
    #[error("{0} has an odd length")]
    OddLength(&'static str),
    #[error("extension {0} appears twice")]
    DuplicateExtension(u16),
    #[error("session id longer than 32 bytes")]
    SessionIdTooLong,
    #[error("server name is not ASCII")]
    BadServerName,
    #[error("empty ALPN protocol name")]
    EmptyAlpnProtocol,
}

/// Why a TLS connection failed after the ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("malformed message: {0}")]
    Parse(#[from] ParseError),
    #[error("record failed to decrypt")]
    BadRecordMac,
    #[error("unexpected record type {0}")]
    UnexpectedRecord(u8),
    #[error("unexpected handshake message {0}")]
    UnexpectedHandshake(u8),
    #[error("peer sent alert {0}")]
    Alert(u8),
    #[error("no cipher suite in common")]
    NoCommonSuite,
    #[error("no X25519 key share")]
    NoKeyShare,
    #[error("invalid X25519 public key")]
    BadKeyShare,
    #[error("peer chose parameters we did not offer")]
    IllegalParameter,
    #[error("Finished does not verify")]
    BadFinished,
    #[error("certificate is not a REALITY certificate for this key")]
    BadCertificate,
    #[error("certificate's ML-DSA-65 signature is missing or does not verify")]
    BadMldsa65Signature,
    #[error("ML-DSA-65 signing failed")]
    Mldsa65Sign,
    #[error("CertificateVerify signature does not verify")]
    BadSignature,
    #[error("record too long")]
    RecordOverflow,
    #[error("key update is not supported")]
    KeyUpdate,
    #[error("a traffic key handed over does not fit its cipher suite")]
    BadTrafficKey,
    #[error("record sequence number exhausted")]
    SequenceExhausted,
    #[error("destination profile cannot be matched: {0}")]
    Profile(&'static str),
}
