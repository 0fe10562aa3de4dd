//! The website behind a connection the node serves as HTTP itself (HTTP/2 for XHTTP and gRPC,
//! or HTTP/1.1 that came for them): every request that is not a transport's is forwarded to the
//! fallback website, one HTTP/1.1 connection each, so a browser or a prober sees the website.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::egress::CONNECT_TIMEOUT;
use crate::fallback::{proxy_header, Origin};

pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;
/// Every response body the node's HTTP service gives.
pub(crate) type AnyBody = BoxBody<Bytes, BodyError>;

/// Where requests that are not ours go.
#[derive(Clone, Copy)]
pub(crate) enum Website {
    /// The fallback website, told who the client is by PROXY protocol when `origin` is set.
    At {
        addr: SocketAddr,
        origin: Option<Origin>,
    },
    /// There is none behind this port (the plain listener: the proxy in front is the site).
    None,
}

/// An empty response with `status`.
pub(crate) fn empty(status: StatusCode) -> Response<AnyBody> {
    let mut response = Response::new(Empty::new().map_err(|e| match e {}).boxed());
    *response.status_mut() = status;
    response
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1); HTTP/2 forbids them.
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("proxy-connection");
}

/// The website's answer to `request` (a bare 404 when there is none, a 502 when it cannot be
/// reached).
pub(crate) async fn answer(website: Website, request: Request<Incoming>) -> Response<AnyBody> {
    let Website::At { addr, origin } = website else {
        return empty(StatusCode::NOT_FOUND);
    };
    match forward(addr, origin, request).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.map_err(BodyError::from).boxed())
        }
        Err(_) => empty(StatusCode::BAD_GATEWAY),
    }
}

async fn forward(
    addr: SocketAddr,
    origin: Option<Origin>,
    request: Request<Incoming>,
) -> Result<Response<Incoming>, BodyError> {
    let mut site = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await??;
    site.set_nodelay(true)?;
    if let Some(origin) = origin {
        site.write_all(&proxy_header(origin)?).await?;
    }
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(site)).await?;
    // Ends once the response is read (or dropped) and the sender is gone.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let (mut parts, body) = request.into_parts();
    // An HTTP/2 request names its host in `:authority`; HTTP/1.1 wants a Host header and a
    // path, not a whole URI.
    if !parts.headers.contains_key(header::HOST) {
        if let Some(host) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            parts.headers.insert(header::HOST, host);
        }
    }
    parts.uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()?;
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    Ok(sender
        .send_request(Request::from_parts(parts, body))
        .await?)
}
