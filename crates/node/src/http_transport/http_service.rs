//! The node as an HTTP server, for XHTTP and gRPC: a connection that came for them (an HTTP/2
//! preface, or an HTTP/1.1 request to their paths) is served by hyper, HTTP/1.1 or HTTP/2 as
//! the client speaks. Each XHTTP session or gRPC call is one VLESS connection, admitted to the
//! per-source budgets on its own; every other request goes to the website (`website`), so a
//! prober sees the website. Nothing here logs: not the path, the Host, the session id or the
//! client.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use client_identity::{ClientIdentity, ClientKey};
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body::Frame;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use xhttp::gun;
use xhttp::request::{self as xreq, Kind};
use xhttp::sessions::SessionError;

use super::pipe::{ChannelBody, Framing, HttpPipe, DOWNLOAD_QUEUE, UPLOAD_QUEUE};
use super::website::{self, empty, AnyBody, Website};
use crate::budget::SourceSlot;
use crate::prefixed::Prefixed;
use crate::server::Shared;
use crate::session;

/// The largest gun message accepted (clients send a write's worth, tens of KiB).
const MAX_GUN_MESSAGE: usize = 1024 * 1024;
/// HTTP/2 streams one connection may have open at once. gRPC clients put every connection on
/// one HTTP/2 connection and wait for a free stream past this, so it stays above what the
/// per-source budget admits (each stream that carries VLESS is admitted there on its own).
const MAX_STREAMS: u32 = 4096;
/// HTTP/2 receive windows: enough to keep a fast upload moving, bounded per stream.
const STREAM_WINDOW: u32 = 512 * 1024;
const CONNECTION_WINDOW: u32 = 2 * 1024 * 1024;
/// Pings on an idle HTTP/2 connection, so a dead one is noticed.
const H2_KEEPALIVE: Duration = Duration::from_secs(30);
/// Request headers at most (a padded Referer is about 1 KB).
const MAX_HEADERS: u32 = 16 * 1024;

/// Who is on the other end of a connection served here, and what is behind it.
pub(crate) struct Served {
    pub(crate) shared: Arc<Shared>,
    /// The TCP peer: the client, or a trusted proxy when `identity` trusts it.
    pub(crate) peer: IpAddr,
    /// Set on the plain listener: a trusted proxy's forwarded header names the client.
    pub(crate) identity: Option<ClientIdentity>,
    /// The node address the client reached (refused as a destination).
    pub(crate) local: Option<IpAddr>,
    pub(crate) website: Website,
}

struct Ctx {
    served: Served,
    xhttp: Option<xreq::Config>,
    /// Cancelled when the connection ends: the VLESS connections it carried end with it.
    ended: CancellationToken,
}

/// Whether `path` (with its query) is one of the transports served here.
pub(crate) fn is_ours(http: &super::HttpTransports, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let grpc = http
        .grpc
        .as_deref()
        .is_some_and(|service| gun::method(service, path).is_some());
    let xhttp = http
        .xhttp
        .as_deref()
        .is_some_and(|p| path.starts_with(&xreq::Config::new(p).path()));
    grpc || xhttp
}

/// Serves `stream` (whose first bytes, `read`, were already taken) as HTTP until the client or
/// the node ends it.
pub(crate) async fn serve<S>(stream: S, read: Vec<u8>, served: Served)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake_timeout = served.shared.config.handshake_timeout;
    let ctx = Arc::new(Ctx {
        xhttp: served
            .shared
            .config
            .http
            .xhttp
            .as_deref()
            .map(xreq::Config::new),
        served,
        ended: CancellationToken::new(),
    });
    let _end_sessions = ctx.ended.clone().drop_guard();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_KEEPALIVE)
        .max_concurrent_streams(MAX_STREAMS)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_header_list_size(MAX_HEADERS);
    let service = service_fn(move |request| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(ctx, request).await) }
    });
    let io = TokioIo::new(Prefixed::new(read, stream));
    let _ = builder.serve_connection(io, service).await;
}

async fn handle(ctx: Arc<Ctx>, request: Request<Incoming>) -> Response<AnyBody> {
    let shared = &ctx.served.shared;
    if let Some(service) = shared.config.http.grpc.as_deref() {
        if let Some(method) = gun::method(service, request.uri().path()) {
            if is_grpc_call(&request) {
                return grpc(ctx, request, method);
            }
        }
    }
    if let Some(config) = &ctx.xhttp {
        if let Some(classified) = classify(config, &request) {
            return xhttp(ctx.clone(), request, classified).await;
        }
    }
    website::answer(ctx.served.website, request).await
}

fn is_grpc_call(request: &Request<Incoming>) -> bool {
    request.method() == Method::POST
        && request.version() == Version::HTTP_2
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(gun::is_grpc_content_type)
}

/// An XHTTP request as `xhttp` classified it, with what the response needs from it.
struct Classified {
    kind: Kind,
    headers: Vec<(&'static str, String)>,
    keepalive: Option<xreq::Range>,
    padding: xreq::Range,
}

fn classify(config: &xreq::Config, request: &Request<Incoming>) -> Option<Classified> {
    let mut headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    // HTTP/2 names the host in `:authority`.
    if !request.headers().contains_key(header::HOST) {
        if let Some(authority) = request.uri().authority() {
            headers.push(("host", authority.as_str()));
        }
    }
    let view = xreq::Request {
        method: request.method().as_str(),
        path: request.uri().path(),
        query: request.uri().query().unwrap_or_default(),
        headers: &headers,
    };
    // Anything our client would not send (no padding, a wrong mode, a bad sequence number) is
    // the website's, as every other path is.
    let kind = xreq::classify(config, &view).ok()?;
    let padding_len = config.padding.pick(random_u32());
    Some(Classified {
        headers: xreq::response_headers(config, &view, &kind, padding_len),
        keepalive: match kind {
            Kind::StreamUp { .. } => xreq::stream_up_keepalive(config, &view),
            _ => None,
        },
        padding: config.padding,
        kind,
    })
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    // SystemRandom only fails where the OS has no randomness, which the TLS layer needs too.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    u32::from_ne_bytes(bytes)
}

fn respond(headers: Vec<(&'static str, String)>, body: AnyBody) -> Response<AnyBody> {
    let mut response = Response::new(body);
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn channel_body() -> (mpsc::Sender<Frame<Bytes>>, AnyBody) {
    let (tx, body) = ChannelBody::new(DOWNLOAD_QUEUE);
    (tx, body.map_err(|e| match e {}).boxed())
}

fn no_body() -> AnyBody {
    http_body_util::Empty::new().map_err(|e| match e {}).boxed()
}

/// The status Xray's server answers a session it cannot take with.
fn session_status(error: &SessionError) -> StatusCode {
    match error {
        SessionError::Conflict => StatusCode::CONFLICT,
        SessionError::TooManyHalfOpen => StatusCode::SERVICE_UNAVAILABLE,
        SessionError::HalfOpenTooLarge | SessionError::Upload(_) => StatusCode::BAD_REQUEST,
    }
}

async fn xhttp(ctx: Arc<Ctx>, request: Request<Incoming>, c: Classified) -> Response<AnyBody> {
    let table = &ctx.served.shared.xhttp;
    match c.kind {
        Kind::Preflight => respond(c.headers, no_body()),
        Kind::StreamOne => {
            let Some(slot) = admit(&ctx, request.headers()) else {
                return empty(StatusCode::SERVICE_UNAVAILABLE);
            };
            let (uploads, upload_rx) = mpsc::channel(UPLOAD_QUEUE);
            tokio::spawn(pump_body(request.into_body(), uploads, ctx.ended.clone()));
            let (download, body) = channel_body();
            let pipe = HttpPipe::new(upload_rx, download, Framing::Raw);
            tokio::spawn(vless(ctx, slot, pipe, None));
            respond(c.headers, body)
        }
        Kind::Download { session } => {
            let Some(slot) = admit(&ctx, request.headers()) else {
                return empty(StatusCode::SERVICE_UNAVAILABLE);
            };
            let upload_rx = match table.download(&session, client_key(&ctx, request.headers())) {
                Ok(rx) => rx,
                Err(e) => return empty(session_status(&e)),
            };
            let (download, body) = channel_body();
            let pipe = HttpPipe::new(upload_rx, download, Framing::Raw);
            let waiting = ctx.clone();
            let id = session.clone();
            // Packets that came before the download.
            tokio::spawn(async move { waiting.served.shared.xhttp.deliver(&id).await });
            tokio::spawn(vless(ctx, slot, pipe, Some(session)));
            respond(c.headers, body)
        }
        Kind::PacketUp { session, seq } => {
            let source = client_key(&ctx, request.headers());
            let limit = ctx
                .served
                .shared
                .config
                .xhttp_sessions
                .upload
                .max_post_bytes;
            let payload = match Limited::new(request.into_body(), limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return empty(StatusCode::BAD_REQUEST),
            };
            let mut headers = c.headers;
            if payload.is_empty() {
                headers.push(("Cache-Control", "no-store".to_owned()));
            }
            match table.packet(&session, seq, payload.to_vec(), source).await {
                Ok(()) => respond(headers, no_body()),
                Err(e) => empty(session_status(&e)),
            }
        }
        Kind::StreamUp { session } => {
            let up = match table.stream_up(&session, client_key(&ctx, request.headers())) {
                Ok(up) => up,
                Err(e) => return empty(session_status(&e)),
            };
            let (keepalive_tx, body) = channel_body();
            let upload = pump_body(request.into_body(), up.uploads, up.ended);
            tokio::spawn(stream_up(upload, keepalive_tx, c.keepalive, c.padding));
            respond(c.headers, body)
        }
    }
}

/// Copies a stream-up POST's body into its session, writing padding down the response now and
/// then (Xray's keep-alive for CDNs) until the upload ends; then the response ends.
async fn stream_up(
    upload: impl std::future::Future<Output = ()>,
    response: mpsc::Sender<Frame<Bytes>>,
    keepalive: Option<xreq::Range>,
    padding: xreq::Range,
) {
    tokio::pin!(upload);
    loop {
        let wait = keepalive.map(|range| Duration::from_secs(range.pick(random_u32()) as u64));
        tokio::select! {
            _ = &mut upload => return,
            _ = sleep_or_never(wait) => {
                let pad = Bytes::from(xreq::padding(padding.pick(random_u32())));
                if response.send(Frame::data(pad)).await.is_err() {
                    // The client is gone; the upload ends with its connection.
                    upload.await;
                    return;
                }
            }
        }
    }
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

fn grpc(ctx: Arc<Ctx>, request: Request<Incoming>, method: gun::Method) -> Response<AnyBody> {
    let Some(slot) = admit(&ctx, request.headers()) else {
        return empty(StatusCode::SERVICE_UNAVAILABLE);
    };
    let (uploads, upload_rx) = mpsc::channel(UPLOAD_QUEUE);
    tokio::spawn(pump_gun(
        request.into_body(),
        uploads,
        method,
        ctx.ended.clone(),
    ));
    let (download, body) = channel_body();
    let pipe = HttpPipe::new(upload_rx, download, Framing::Hunk);
    tokio::spawn(vless(ctx, slot, pipe, None));
    let mut response = Response::new(body);
    for (name, value) in gun::RESPONSE_HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The client behind a request: the TCP peer, or whom a trusted proxy names.
fn client(ctx: &Ctx, headers: &HeaderMap) -> IpAddr {
    let served = &ctx.served;
    match &served.identity {
        Some(identity) => identity.client(served.peer, headers),
        None => served.peer,
    }
}

fn client_key(ctx: &Ctx, headers: &HeaderMap) -> ClientKey {
    ClientKey::of(client(ctx, headers))
}

/// Admits one VLESS connection for the client behind this request to the per-source budgets.
fn admit(ctx: &Ctx, headers: &HeaderMap) -> Option<SourceSlot> {
    let served = &ctx.served;
    match served.shared.sources.admit(client(ctx, headers)) {
        Ok(slot) => Some(slot),
        Err(refusal) => {
            served.shared.metrics.refused(refusal);
            None
        }
    }
}

/// One VLESS connection over `pipe`, until it ends, its user is cut or the HTTP connection
/// carrying its download ends; then its XHTTP session (if any) is closed.
async fn vless(ctx: Arc<Ctx>, mut slot: SourceSlot, pipe: HttpPipe, session: Option<String>) {
    let shared = &ctx.served.shared;
    let deadline = Instant::now() + shared.config.handshake_timeout;
    tokio::select! {
        _ = ctx.ended.cancelled() => {}
        _ = session::serve_inside(pipe, ctx.served.local, &mut slot, deadline, shared) => {}
    }
    if let Some(id) = session {
        shared.xhttp.close(&id);
    }
}

/// Copies a request body into `uploads` until it ends, fails or `stop`.
async fn pump_body(mut body: Incoming, uploads: mpsc::Sender<Bytes>, stop: CancellationToken) {
    let copy = async {
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if !data.is_empty() && uploads.send(data).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = copy => {}
    }
}

/// Decodes a gRPC request body's gun messages into `uploads` until it ends, fails, breaks the
/// format or `stop`.
async fn pump_gun(
    mut body: Incoming,
    uploads: mpsc::Sender<Bytes>,
    method: gun::Method,
    stop: CancellationToken,
) {
    let copy = async {
        let mut buf: Vec<u8> = Vec::new();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            buf.extend_from_slice(&data);
            let mut used = 0;
            loop {
                let rest = &buf[used..];
                let decoded = match method {
                    gun::Method::Tun => gun::decode_hunk(rest, MAX_GUN_MESSAGE)
                        .map(|p| p.map(|d| vec![Bytes::copy_from_slice(d)])),
                    gun::Method::TunMulti => gun::decode_multi_hunk(rest, MAX_GUN_MESSAGE)
                        .map(|p| p.map(|ds| ds.into_iter().map(Bytes::copy_from_slice).collect())),
                };
                match decoded {
                    Ok(xhttp::Parse::Done { value, consumed }) => {
                        used += consumed;
                        for chunk in value.into_iter().filter(|c| !c.is_empty()) {
                            if uploads.send(chunk).await.is_err() {
                                return;
                            }
                        }
                    }
                    Ok(xhttp::Parse::NeedMore) => break,
                    Err(_) => return,
                }
            }
            buf.drain(..used);
        }
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = copy => {}
    }
}
