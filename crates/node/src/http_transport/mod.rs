//! The HTTP transports' front door on the node's port: after TLS, a connection that is not a
//! VLESS request but an HTTP/1.1 upgrade to an enabled transport's exact path gets that
//! transport's handshake, and its VLESS request then comes inside. Anything else (another
//! path, a plain GET, a bad upgrade) is handed to the website with every byte read, so a prober
//! sees the website. Nothing here logs: not the path, the Host or the client.
//!
//! WebSocket carries Xray's and sing-box's early data: the first bytes of the stream,
//! base64url in `Sec-WebSocket-Protocol`, echoed back as the chosen protocol as Xray does.
//! HTTPUpgrade is the same upgrade answered with a bare 101, then raw bytes.
//!
//! XHTTP and gRPC are served by `http_service` (hyper, HTTP/1.1 and HTTP/2): a connection that
//! opens with the HTTP/2 preface, or whose first request is to their paths, is handed to it
//! whole ([`route`]), and it forwards every request that is not theirs to the website.

mod frame;
mod head;
pub(crate) mod http_service;
mod pipe;
pub(crate) mod website;
mod ws_stream;
mod xhttp_table;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

pub(crate) use ws_stream::WsStream;
pub(crate) use xhttp_table::XhttpTable;

use head::RequestHead;

/// The HTTP transports a node serves, each at its exact path (`[node.http] path` plus the
/// transport's suffix, built by `milly`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpTransports {
    /// WebSocket's path, when on.
    pub ws: Option<String>,
    /// HTTPUpgrade's path, when on.
    pub httpupgrade: Option<String>,
    /// XHTTP's path (Xray's `xhttpSettings.path`), when on; over TLS and REALITY.
    pub xhttp: Option<String>,
    /// gRPC's service name (requests go to `/<name>/Tun`), when on; over TLS and REALITY.
    pub grpc: Option<String>,
}

/// Which transports are on, never their paths: every user's link carries them, and they keep
/// scanners out only while they stay out of logs.
impl std::fmt::Debug for HttpTransports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransports")
            .field("ws", &self.ws.is_some())
            .field("httpupgrade", &self.httpupgrade.is_some())
            .field("xhttp", &self.xhttp.is_some())
            .field("grpc", &self.grpc.is_some())
            .finish()
    }
}

impl HttpTransports {
    /// Whether a transport that may run over HTTP/2 is on (XHTTP, gRPC).
    pub(crate) fn h2_based(&self) -> bool {
        self.xhttp.is_some() || self.grpc.is_some()
    }
}

/// The most bytes of a request head read before it is judged not ours (early data of 2048
/// bytes is about 2.7 KB of base64).
const MAX_HEAD: usize = 8 * 1024;
/// Most early data accepted in `Sec-WebSocket-Protocol` (clients send at most their `ed`).
const MAX_EARLY_DATA: usize = 4 * 1024;
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What the first bytes led to.
pub(crate) enum Accepted {
    /// A WebSocket is open: `early` is the stream's first bytes (from the header), `leftover`
    /// the raw bytes read past the head (frames).
    WebSocket { early: Vec<u8>, leftover: Vec<u8> },
    /// An HTTPUpgrade is open: `first` is the stream's first bytes (early data, then whatever
    /// followed the head).
    HttpUpgrade { first: Vec<u8> },
    /// Not ours: everything read so far, for the website.
    NotOurs(Vec<u8>),
    /// The connection failed while reading or answering.
    Broken,
}

/// What an HTTP/2 connection opens with (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether `read` may be the start of an HTTP/2 connection.
pub(crate) fn may_be_h2(read: &[u8]) -> bool {
    let n = read.len().min(H2_PREFACE.len());
    n > 0 && read[..n] == H2_PREFACE[..n]
}

/// Whether `read` may be the start of an HTTP/1.1 request (a method is upper-case letters).
fn may_be_http1(read: &[u8]) -> bool {
    read.first().is_some_and(u8::is_ascii_uppercase)
}

/// Where a connection that is not plain VLESS goes.
pub(crate) enum Route {
    /// An upgrade to WebSocket or HTTPUpgrade, answered.
    Upgraded(Accepted),
    /// HTTP for XHTTP or gRPC, or HTTP/2: `http_service` serves it, starting with `read`.
    Served(Vec<u8>),
    /// Not ours: everything read so far, for the website.
    Website(Vec<u8>),
    Broken,
}

/// Decides what a connection whose first bytes, `read`, are not VLESS is, reading on as far as
/// a request head when it may be HTTP/1.1. Over REALITY (`reality`) only XHTTP and gRPC are
/// served.
pub(crate) async fn route<S>(
    stream: &mut S,
    read: Vec<u8>,
    deadline: Instant,
    transports: &HttpTransports,
    reality: bool,
) -> Route
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let upgrades = !reality && (transports.ws.is_some() || transports.httpupgrade.is_some());
    if transports.h2_based() && may_be_h2(&read) {
        return Route::Served(read);
    }
    if !(upgrades || transports.h2_based()) || !may_be_http1(&read) {
        return Route::Website(read);
    }
    let read = match read_head(stream, read, deadline).await {
        Ok(read) => read,
        Err(Accepted::NotOurs(read)) => return Route::Website(read),
        Err(_) => return Route::Broken,
    };
    let path = match head::parse(&read) {
        Ok(Some((head, _))) => head.path.clone(),
        _ => return Route::Website(read),
    };
    if transports.h2_based() && http_service::is_ours(transports, &path) {
        return Route::Served(read);
    }
    if !upgrades {
        return Route::Website(read);
    }
    match accept(stream, read, deadline, transports).await {
        Accepted::NotOurs(read) => Route::Website(read),
        Accepted::Broken => Route::Broken,
        upgraded => Route::Upgraded(upgraded),
    }
}

/// Reads the request head (within `deadline` and `MAX_HEAD`) after `read`, and answers an
/// upgrade to one of `transports`.
pub(crate) async fn accept<S>(
    stream: &mut S,
    read: Vec<u8>,
    deadline: Instant,
    transports: &HttpTransports,
) -> Accepted
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut read = match read_head(stream, read, deadline).await {
        Ok(read) => read,
        Err(not_a_head) => return not_a_head,
    };
    let Ok(Some((head, used))) = head::parse(&read) else {
        return Accepted::NotOurs(read);
    };
    let Some(reply) = decide(&head, transports) else {
        return Accepted::NotOurs(read);
    };
    let rest = read.split_off(used);
    let written = tokio::time::timeout_at(deadline, async {
        stream.write_all(reply.response.as_bytes()).await?;
        stream.flush().await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        return Accepted::Broken;
    }
    match reply.kind {
        Kind::WebSocket => Accepted::WebSocket {
            early: reply.early,
            leftover: rest,
        },
        Kind::HttpUpgrade => {
            let mut first = reply.early;
            first.extend_from_slice(&rest);
            Accepted::HttpUpgrade { first }
        }
    }
}

/// Reads on after `read` until it holds a whole request head (within `deadline` and
/// `MAX_HEAD`); otherwise what came (`NotOurs`) or that the connection failed (`Broken`).
pub(crate) async fn read_head<S>(
    stream: &mut S,
    mut read: Vec<u8>,
    deadline: Instant,
) -> Result<Vec<u8>, Accepted>
where
    S: AsyncRead + Unpin,
{
    loop {
        match head::parse(&read) {
            Ok(Some(_)) => return Ok(read),
            Ok(None) if read.len() < MAX_HEAD => {}
            Ok(None) | Err(()) => return Err(Accepted::NotOurs(read)),
        }
        read.reserve(1024);
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut read)).await {
            Ok(Ok(n)) if n > 0 => {}
            // Timeout or end of stream: the website answers what came.
            Err(_) | Ok(Ok(_)) => return Err(Accepted::NotOurs(read)),
            Ok(Err(_)) => return Err(Accepted::Broken),
        }
    }
}

/// The path (with its query) of the request head at the start of `read`.
pub(crate) fn request_path(read: &[u8]) -> Option<String> {
    match head::parse(read) {
        Ok(Some((head, _))) => Some(head.path),
        _ => None,
    }
}

/// The headers of the request head at the start of `read` (empty when there is none), for
/// deciding who sent it behind a trusted proxy.
pub(crate) fn request_headers(read: &[u8]) -> http::HeaderMap {
    match head::parse(read) {
        Ok(Some((head, _))) => head.header_map(),
        _ => http::HeaderMap::new(),
    }
}

enum Kind {
    WebSocket,
    HttpUpgrade,
}

struct Reply {
    kind: Kind,
    response: String,
    early: Vec<u8>,
}

/// The answer to a request head, or `None` when it is not an upgrade to an enabled transport.
fn decide(head: &RequestHead, transports: &HttpTransports) -> Option<Reply> {
    if head.method != "GET" || !head.upgrade_websocket() {
        return None;
    }
    let path = head.path.split('?').next().unwrap_or_default();
    let protocol = head.header("sec-websocket-protocol");
    // Early data is the protocol's value when it decodes; otherwise it is a real protocol.
    let early = protocol.and_then(early_data).unwrap_or_default();
    if transports.ws.as_deref() == Some(path) {
        let key = head.header("sec-websocket-key")?;
        if head.header("sec-websocket-version") != Some("13") {
            return None;
        }
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
            accept_key(key)
        );
        if let Some(protocol) = protocol {
            response.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
        }
        response.push_str("\r\n");
        return Some(Reply {
            kind: Kind::WebSocket,
            response,
            early,
        });
    }
    if transports.httpupgrade.as_deref() == Some(path) {
        return Some(Reply {
            kind: Kind::HttpUpgrade,
            response: "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n".into(),
            early,
        });
    }
    None
}

/// Early data from `Sec-WebSocket-Protocol`: base64url without padding (padding tolerated).
fn early_data(value: &str) -> Option<Vec<u8>> {
    let value = value.trim().trim_end_matches('=');
    if value.is_empty() || value.len() > MAX_EARLY_DATA * 4 / 3 + 4 {
        return None;
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()
}

/// `Sec-WebSocket-Accept` for a client's key (RFC 6455 §4.2.2).
fn accept_key(key: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(key.trim().as_bytes());
    ctx.update(WS_GUID);
    base64::engine::general_purpose::STANDARD.encode(ctx.finish().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transports() -> HttpTransports {
        HttpTransports {
            ws: Some("/s3cret/ws".into()),
            httpupgrade: Some("/s3cret/up".into()),
            ..HttpTransports::default()
        }
    }

    fn head(text: &str) -> RequestHead {
        let (head, used) = head::parse(text.as_bytes()).unwrap().unwrap();
        assert_eq!(used, text.len());
        head
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_websocket_upgrade_with_early_data_echoes_the_protocol_and_yields_the_bytes() {
        let early = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"\x00vless");
        let text = format!("GET /s3cret/ws?ed=2048 HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {early}\r\n\r\n");
        let reply = decide(&head(&text), &transports()).unwrap();
        assert!(matches!(reply.kind, Kind::WebSocket));
        assert_eq!(reply.early, b"\x00vless");
        assert!(reply
            .response
            .contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(reply
            .response
            .contains(&format!("Sec-WebSocket-Protocol: {early}\r\n")));
    }

    #[test]
    fn an_httpupgrade_gets_a_bare_101() {
        let text = "GET /s3cret/up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        let reply = decide(&head(text), &transports()).unwrap();
        assert!(matches!(reply.kind, Kind::HttpUpgrade));
        assert!(reply.early.is_empty());
        assert!(reply.response.starts_with("HTTP/1.1 101 "));
    }

    #[test]
    fn other_paths_plain_gets_and_disabled_transports_are_not_ours() {
        let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        for text in [
            format!("GET /s3cret/wsx HTTP/1.1\r\n{upgrade}"),
            format!("GET /s3cret HTTP/1.1\r\n{upgrade}"),
            format!("GET / HTTP/1.1\r\n{upgrade}"),
            format!("POST /s3cret/ws HTTP/1.1\r\n{upgrade}"),
            "GET /s3cret/ws HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
            "GET /s3cret/up HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
            "GET /s3cret/ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                .to_string(),
        ] {
            assert!(decide(&head(&text), &transports()).is_none(), "{text}");
        }
        let only_up = HttpTransports {
            ws: None,
            httpupgrade: Some("/s3cret/up".into()),
            ..HttpTransports::default()
        };
        let ws = format!("GET /s3cret/ws HTTP/1.1\r\n{upgrade}");
        assert!(decide(&head(&ws), &only_up).is_none());
    }

    #[test]
    fn debug_says_which_transports_are_on_and_never_their_paths() {
        let printed = format!("{:?}", transports());
        assert!(printed.contains("ws: true"), "{printed}");
        assert!(printed.contains("grpc: false"), "{printed}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn http2_and_http1_are_told_by_their_first_bytes() {
        assert!(may_be_h2(b"P"));
        assert!(may_be_h2(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00"));
        assert!(!may_be_h2(b"POST /"));
        assert!(!may_be_h2(b""));
        assert!(may_be_http1(b"POST /"));
        assert!(may_be_http1(b"OPTIONS /"));
        assert!(!may_be_http1(b"\x00\x01"));
        assert!(!may_be_http1(b"get /"));
    }
}
