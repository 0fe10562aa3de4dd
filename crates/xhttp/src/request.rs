//! One XHTTP request classified as Xray-core's server (`splithttp/hub.go`) classifies it.
//!
//! A client opens a proxied connection in one of three modes:
//!
//! - **stream-one**: one `POST <path>` whose body is the upload and whose response body is the
//!   download; no session id.
//! - **stream-up**: a `POST <path><session>` streaming the upload, beside a `GET
//!   <path><session>` streaming the download.
//! - **packet-up** (the default of Xray's client): many `POST <path><session>/<seq>`, each one
//!   packet of the upload numbered from 0, beside the same download `GET`.
//!
//! The session id and the sequence number are path segments by default (Xray ≥ 25 can move
//! them to a query parameter or a header: [`Placement`]). Every request but `OPTIONS` carries
//! `x_padding`: Xray's client puts it in the query of a `Referer` header pointing at the request
//! URL, older clients in the request's own query. The checks run in Xray's order, so a client
//! sees the same status codes ([`ClassifyError::status`]).

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Xray's default `xPaddingBytes`: how long `x_padding` may be on a request, and how long the
/// server makes its own.
pub const DEFAULT_PADDING: Range = Range {
    min: 100,
    max: 1000,
};

/// Xray's default `scStreamUpServerSecs`: how often, in seconds, the server writes padding
/// down a stream-up POST's response so that CDNs do not close it as idle.
pub const DEFAULT_STREAM_UP_KEEPALIVE: Range = Range { min: 20, max: 80 };

/// A session id longer than this is refused: Xray's clients send a UUID (36 characters) or a
/// configured shorter one, and every id kept is memory an attacker chooses.
pub const MAX_SESSION_ID: usize = 128;

/// The query key Xray's clients put the padding under (in the `Referer` or the request URL).
const PADDING_KEY: &str = "x_padding";

/// Which modes the server accepts (Xray's `mode`; `auto` accepts all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Auto,
    StreamOne,
    StreamUp,
    PacketUp,
}

/// Where the client puts the session id or the sequence number (Xray's `sessionPlacement` and
/// `seqPlacement`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Placement {
    /// Successive path segments after the configured path (Xray's default).
    #[default]
    Path,
    /// A query parameter with this key (Xray's default key: `x_session`, `x_seq`).
    Query(String),
    /// A request header with this name (Xray's default name: `X-Session`, `X-Seq`).
    Header(String),
}

/// A range of lengths or seconds, both ends included (Xray's `RangeConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: usize,
    pub max: usize,
}

impl Range {
    /// A length in the range chosen by `random` (any value: the caller's randomness).
    pub fn pick(&self, random: u32) -> usize {
        let span = self.max.saturating_sub(self.min).saturating_add(1);
        self.min + (random as usize) % span
    }

    pub fn contains(&self, len: usize) -> bool {
        (self.min..=self.max).contains(&len)
    }
}

/// The server's XHTTP settings that classification depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The configured path, as written (normalised by [`Config::path`]).
    pub path: String,
    pub mode: Mode,
    pub padding: Range,
    /// The host requests must name (Xray's `host`; any when `None`), compared as Xray does:
    /// without case and without the port.
    pub host: Option<String>,
    /// Seconds between the padding writes down a stream-up response ([`stream_up_keepalive`]).
    pub stream_up_keepalive: Range,
    pub session: Placement,
    pub seq: Placement,
    /// Leave out `Content-Type: text/event-stream` on downloads (Xray's `noSSEHeader`).
    pub no_sse_header: bool,
}

impl Config {
    /// Settings for the configured `path`, with Xray's defaults otherwise.
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            mode: Mode::Auto,
            padding: DEFAULT_PADDING,
            host: None,
            stream_up_keepalive: DEFAULT_STREAM_UP_KEEPALIVE,
            session: Placement::Path,
            seq: Placement::Path,
            no_sse_header: false,
        }
    }

    /// The path requests must start with, normalised as Xray normalises it: anything after a
    /// `?` dropped, a leading `/`, and a trailing one when ids follow as path segments.
    pub fn path(&self) -> String {
        let path = self.path.split('?').next().unwrap_or_default();
        let mut normal = String::with_capacity(path.len() + 2);
        if !path.starts_with('/') {
            normal.push('/');
        }
        normal.push_str(path);
        let segments = self.session == Placement::Path || self.seq == Placement::Path;
        if segments && !normal.ends_with('/') {
            normal.push('/');
        }
        normal
    }
}

/// A request as the caller's HTTP library parsed it. `path` and `query` are as on the wire
/// (not percent-decoded; `query` without its `?`); `headers` are name/value pairs, names in any
/// case, the first of a repeated name counting, as Go's `Header.Get`. HTTP/2's `:authority`
/// goes in as `Host`.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// What a request is, once it passed the path, padding and mode checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A CORS preflight: answered 200 with [`response_headers`], nothing else.
    Preflight,
    /// stream-one: this request's body is the upload, its response body the download.
    StreamOne,
    /// stream-up: this request's body is the session's whole upload.
    StreamUp { session: String },
    /// packet-up: this request's payload is packet `seq` of the session's upload.
    PacketUp { session: String, seq: u64 },
    /// The session's download: its response body carries the server's bytes.
    Download { session: String },
}

impl Kind {
    pub fn session(&self) -> Option<&str> {
        match self {
            Kind::StreamUp { session }
            | Kind::PacketUp { session, .. }
            | Kind::Download { session } => Some(session),
            Kind::Preflight | Kind::StreamOne => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    #[error("the request is not for the configured host")]
    NotOurHost,
    #[error("the request is not under the XHTTP path")]
    NotOurPath,
    #[error("x_padding is missing")]
    PaddingMissing,
    #[error("x_padding of {0} bytes is outside the configured range")]
    PaddingLength(usize),
    #[error("the request's mode is not the configured one")]
    ModeNotAllowed,
    #[error("the session id is longer than {MAX_SESSION_ID} bytes")]
    SessionIdTooLong,
    #[error("the sequence number is not a decimal u64")]
    BadSeq,
}

impl ClassifyError {
    /// The status Xray's server answers with, so a probe cannot tell the two apart by it.
    pub fn status(&self) -> u16 {
        match self {
            ClassifyError::NotOurHost | ClassifyError::NotOurPath => 404,
            ClassifyError::BadSeq => 500,
            ClassifyError::PaddingMissing
            | ClassifyError::PaddingLength(_)
            | ClassifyError::ModeNotAllowed
            | ClassifyError::SessionIdTooLong => 400,
        }
    }
}

/// Classifies `request` against `config`, in Xray's order: host, path, preflight, padding,
/// then the session id and sequence number with the mode they imply.
pub fn classify(config: &Config, request: &Request<'_>) -> Result<Kind, ClassifyError> {
    if let Some(host) = config.host.as_deref().filter(|h| !h.is_empty()) {
        let named = request.header("Host").unwrap_or_default();
        if !host_matches(named, host) {
            return Err(ClassifyError::NotOurHost);
        }
    }
    let Some(rest) = request.path.strip_prefix(config.path().as_str()) else {
        return Err(ClassifyError::NotOurPath);
    };
    if request.method == "OPTIONS" {
        return Ok(Kind::Preflight);
    }
    check_padding(config, request)?;

    let mut segments = rest.split('/');
    let session = extract(&config.session, request, &mut segments);
    let seq = extract(&config.seq, request, &mut segments);
    let session = session.unwrap_or_default();
    let seq = seq.unwrap_or_default();
    if session.len() > MAX_SESSION_ID {
        return Err(ClassifyError::SessionIdTooLong);
    }
    let allowed = |modes: &[Mode]| config.mode == Mode::Auto || modes.contains(&config.mode);

    if session.is_empty() {
        // Xray lets stream-up servers take stream-one requests too.
        return if allowed(&[Mode::StreamOne, Mode::StreamUp]) {
            Ok(Kind::StreamOne)
        } else {
            Err(ClassifyError::ModeNotAllowed)
        };
    }
    let session = session.into_owned();
    // A GET without a sequence number is the download; with one (an `uplinkHTTPMethod` of GET)
    // it is a packet like any other method's.
    if request.method == "GET" && seq.is_empty() {
        return Ok(Kind::Download { session });
    }
    if seq.is_empty() {
        return if allowed(&[Mode::StreamUp]) {
            Ok(Kind::StreamUp { session })
        } else {
            Err(ClassifyError::ModeNotAllowed)
        };
    }
    if !allowed(&[Mode::PacketUp]) {
        return Err(ClassifyError::ModeNotAllowed);
    }
    let seq = parse_seq(&seq).ok_or(ClassifyError::BadSeq)?;
    Ok(Kind::PacketUp { session, seq })
}

/// Xray's `IsValidHTTPHost`: the request's host without its port, without case. A host with a
/// colon that is no `host:port` (Go's `SplitHostPort` fails) matches nothing.
fn host_matches(request: &str, config: &str) -> bool {
    let name = if request.contains(':') {
        let split = match request.strip_prefix('[') {
            Some(bracketed) => bracketed
                .split_once(']')
                .and_then(|(h, port)| port.starts_with(':').then_some(h)),
            None => request.rsplit_once(':').map(|(h, _)| h),
        };
        match split {
            Some(h)
                if !h.contains(['[', ']']) && (request.starts_with('[') || !h.contains(':')) =>
            {
                h
            }
            _ => return false,
        }
    } else {
        request
    };
    name.eq_ignore_ascii_case(config)
}

/// Whether the server writes padding down this stream-up request's response, and how often:
/// Xray does when the client sent a `Referer` (which its clients since the keep-alive change
/// do), writing [`Range::pick`] of [`Config::padding`] `X`s every pick of the returned range of
/// seconds until the upload ends.
pub fn stream_up_keepalive(config: &Config, request: &Request<'_>) -> Option<Range> {
    let marked = request.header("Referer").is_some_and(|r| !r.is_empty());
    (marked && config.stream_up_keepalive.max > 0).then_some(config.stream_up_keepalive)
}

/// Go's `strconv.ParseUint(s, 10, 64)`: ASCII digits only, no sign, no overflow.
fn parse_seq(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn extract<'a>(
    placement: &Placement,
    request: &Request<'a>,
    segments: &mut impl Iterator<Item = &'a str>,
) -> Option<Cow<'a, str>> {
    match placement {
        Placement::Path => segments.next().map(Cow::Borrowed),
        Placement::Query(key) => query_get(request.query, key),
        Placement::Header(name) => request.header(name).map(Cow::Borrowed),
    }
}

/// Where the client carried the padding (Xray's non-obfuscated mode): the `x_padding` query
/// parameter of the `Referer` when there is one, else of the request URL.
fn check_padding(config: &Config, request: &Request<'_>) -> Result<(), ClassifyError> {
    let padding = match request.header("Referer") {
        Some(referer) => url_query(referer).and_then(|q| query_get(q, PADDING_KEY)),
        None => query_get(request.query, PADDING_KEY),
    };
    match padding {
        None => Err(ClassifyError::PaddingMissing),
        Some(p) if p.is_empty() => Err(ClassifyError::PaddingMissing),
        Some(p) if config.padding.contains(p.len()) => Ok(()),
        Some(p) => Err(ClassifyError::PaddingLength(p.len())),
    }
}

/// The query of a URL: after the first `?`, before any `#`.
fn url_query(url: &str) -> Option<&str> {
    let (_, after) = url.split_once('?')?;
    Some(after.split('#').next().unwrap_or_default())
}

/// The first value of `key` in a query string, decoded as Go's `url.Query().Get` decodes it
/// (`+` is a space, `%XX` a byte).
pub fn query_get<'a>(query: &'a str, key: &str) -> Option<Cow<'a, str>> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['+', '%']) {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// `len` bytes of padding as Xray's server makes it: `X` repeated (one byte each in HPACK's and
/// QPACK's Huffman code, so the length on the wire is the length chosen).
pub fn padding(len: usize) -> String {
    "X".repeat(len)
}

/// The headers Xray's server puts on its response to `request` of `kind`, with `padding_len`
/// bytes of `X-Padding` ([`Range::pick`]). A packet-up response whose request had an
/// empty body should also say `Cache-Control: no-store` (the caller knows the body).
pub fn response_headers(
    config: &Config,
    request: &Request<'_>,
    kind: &Kind,
    padding_len: usize,
) -> Vec<(&'static str, String)> {
    let origin = request.header("Origin").filter(|o| !o.is_empty());
    let mut headers = vec![(
        "Access-Control-Allow-Origin",
        origin.unwrap_or("*").to_owned(),
    )];
    let or_any = |v: Option<&str>| v.filter(|v| !v.is_empty()).unwrap_or("*").to_owned();
    match kind {
        Kind::Preflight => {
            let method = request.header("Access-Control-Request-Method");
            let wanted = request.header("Access-Control-Request-Headers");
            headers.push(("Access-Control-Allow-Methods", or_any(method)));
            headers.push(("Access-Control-Allow-Headers", or_any(wanted)));
        }
        Kind::StreamOne | Kind::Download { .. } => {
            // Tells nginx and Apache not to buffer, and every middlebox not to cache.
            headers.push(("X-Accel-Buffering", "no".to_owned()));
            headers.push(("Cache-Control", "no-store".to_owned()));
            if !config.no_sse_header {
                headers.push(("Content-Type", "text/event-stream".to_owned()));
            }
        }
        Kind::StreamUp { .. } => {
            headers.push(("X-Accel-Buffering", "no".to_owned()));
            headers.push(("Cache-Control", "no-store".to_owned()));
        }
        Kind::PacketUp { .. } => {}
    }
    headers.push(("X-Padding", padding(padding_len)));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "7c9f3b8e-1d2a-4b5c-9e8f-0a1b2c3d4e5f";

    fn referer(path: &str, len: usize) -> String {
        format!("https://example.com{path}?x_padding={}", padding(len))
    }

    fn classify_with(
        config: &Config,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Kind, ClassifyError> {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        classify(
            config,
            &Request {
                method,
                path,
                query,
                headers,
            },
        )
    }

    /// A request as current Xray clients send it: padding in the Referer.
    fn xray(config: &Config, method: &str, path: &str) -> Result<Kind, ClassifyError> {
        let referer = referer(path, 300);
        classify_with(config, method, path, &[("Referer", &referer)])
    }

    #[test]
    fn the_path_is_normalised_as_xray_does() {
        assert_eq!(Config::new("xhttp").path(), "/xhttp/");
        assert_eq!(Config::new("/a/b?ed=2048").path(), "/a/b/");
        assert_eq!(Config::new("").path(), "/");
        let mut config = Config::new("/q");
        config.session = Placement::Query("x_session".into());
        config.seq = Placement::Header("X-Seq".into());
        assert_eq!(config.path(), "/q");
    }

    #[test]
    fn each_mode_is_told_from_its_path_and_method() {
        let config = Config::new("/xh");
        assert_eq!(xray(&config, "POST", "/xh/"), Ok(Kind::StreamOne));
        assert_eq!(
            xray(&config, "GET", &format!("/xh/{SESSION}")),
            Ok(Kind::Download {
                session: SESSION.into()
            })
        );
        assert_eq!(
            xray(&config, "POST", &format!("/xh/{SESSION}")),
            Ok(Kind::StreamUp {
                session: SESSION.into()
            })
        );
        assert_eq!(
            xray(&config, "POST", &format!("/xh/{SESSION}/17")),
            Ok(Kind::PacketUp {
                session: SESSION.into(),
                seq: 17
            })
        );
        // An uplinkHTTPMethod other than POST, GET included, is a packet when it has a seq.
        assert_eq!(
            xray(&config, "GET", &format!("/xh/{SESSION}/0")),
            Ok(Kind::PacketUp {
                session: SESSION.into(),
                seq: 0
            })
        );
        assert_eq!(
            xray(&config, "PUT", &format!("/xh/{SESSION}/3")),
            Ok(Kind::PacketUp {
                session: SESSION.into(),
                seq: 3
            })
        );
    }

    #[test]
    fn query_and_header_placements_of_newer_clients() {
        let mut config = Config::new("/xh");
        config.session = Placement::Query("x_session".into());
        config.seq = Placement::Header("X-Seq".into());
        let referer = referer("/xh", 100);
        let got = classify_with(
            &config,
            "POST",
            &format!("/xh?x_session={SESSION}"),
            &[("referer", &referer), ("x-seq", "9")],
        );
        assert_eq!(
            got,
            Ok(Kind::PacketUp {
                session: SESSION.into(),
                seq: 9
            })
        );
        let got = classify_with(
            &config,
            "GET",
            &format!("/xh?x_session={SESSION}"),
            &[("Referer", &referer)],
        );
        assert_eq!(
            got,
            Ok(Kind::Download {
                session: SESSION.into()
            })
        );
    }

    #[test]
    fn the_configured_mode_refuses_the_others() {
        let mut config = Config::new("/xh");
        config.mode = Mode::PacketUp;
        assert_eq!(
            xray(&config, "POST", "/xh/"),
            Err(ClassifyError::ModeNotAllowed)
        );
        assert_eq!(
            xray(&config, "POST", &format!("/xh/{SESSION}")),
            Err(ClassifyError::ModeNotAllowed)
        );
        assert!(xray(&config, "POST", &format!("/xh/{SESSION}/1")).is_ok());
        config.mode = Mode::StreamUp;
        assert_eq!(xray(&config, "POST", "/xh/"), Ok(Kind::StreamOne));
        assert_eq!(
            xray(&config, "POST", &format!("/xh/{SESSION}/1")),
            Err(ClassifyError::ModeNotAllowed)
        );
        config.mode = Mode::StreamOne;
        assert_eq!(
            xray(&config, "POST", &format!("/xh/{SESSION}")),
            Err(ClassifyError::ModeNotAllowed)
        );
        // The download GET is every session mode's; Xray does not refuse it by mode.
        assert!(xray(&config, "GET", &format!("/xh/{SESSION}")).is_ok());
    }

    #[test]
    fn padding_is_required_within_its_range_wherever_xray_put_it() {
        let config = Config::new("/xh");
        let path = format!("/xh/{SESSION}");
        let get = |headers: &[(&str, &str)], query: &str| {
            classify_with(&config, "GET", &format!("{path}?{query}"), headers)
        };
        assert_eq!(get(&[], ""), Err(ClassifyError::PaddingMissing));
        for (len, ok) in [(99, false), (100, true), (1000, true), (1001, false)] {
            let r = referer(&path, len);
            assert_eq!(get(&[("Referer", &r)], "").is_ok(), ok, "referer {len}");
            let q = format!("x_padding={}", padding(len));
            assert_eq!(get(&[], &q).is_ok(), ok, "query {len}");
        }
        // A Referer without the padding is not rescued by the query (Xray reads one place).
        let q = format!("x_padding={}", padding(200));
        assert_eq!(
            get(&[("Referer", "https://example.com/")], &q),
            Err(ClassifyError::PaddingMissing)
        );
        assert_eq!(
            get(&[], "x_padding=XXX"),
            Err(ClassifyError::PaddingLength(3))
        );
    }

    #[test]
    fn preflight_skips_padding_and_wrong_paths_are_404() {
        let config = Config::new("/xh");
        assert_eq!(
            classify_with(&config, "OPTIONS", "/xh/abc", &[]),
            Ok(Kind::Preflight)
        );
        let e = xray(&config, "GET", "/other/abc").unwrap_err();
        assert_eq!((e.clone(), e.status()), (ClassifyError::NotOurPath, 404));
        // The configured path without its trailing slash is not under it, as in Xray.
        assert_eq!(xray(&config, "POST", "/xh"), Err(ClassifyError::NotOurPath));
    }

    #[test]
    fn bad_sequence_numbers_and_long_sessions_are_refused() {
        let config = Config::new("/xh");
        for seq in ["-1", "+1", "1x", "18446744073709551616", " 1"] {
            let e = xray(&config, "POST", &format!("/xh/{SESSION}/{seq}")).unwrap_err();
            assert_eq!(
                (e.clone(), e.status()),
                (ClassifyError::BadSeq, 500),
                "{seq}"
            );
        }
        let long = "a".repeat(MAX_SESSION_ID + 1);
        assert_eq!(
            xray(&config, "GET", &format!("/xh/{long}")),
            Err(ClassifyError::SessionIdTooLong)
        );
        assert_eq!(
            xray(&config, "POST", "/xh/s/18446744073709551615"),
            Ok(Kind::PacketUp {
                session: "s".into(),
                seq: u64::MAX
            })
        );
    }

    #[test]
    fn responses_carry_xrays_headers_and_padding() {
        let config = Config::new("/xh");
        let path = format!("/xh/{SESSION}");
        let request = Request {
            method: "GET",
            path: &path,
            query: "",
            headers: &[("Origin", "https://a.example")],
        };
        let kind = Kind::Download {
            session: SESSION.into(),
        };
        let len = DEFAULT_PADDING.pick(12345);
        assert!(DEFAULT_PADDING.contains(len));
        let headers = response_headers(&config, &request, &kind, len);
        let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        assert_eq!(
            get("Access-Control-Allow-Origin").map(String::as_str),
            Some("https://a.example")
        );
        assert_eq!(
            get("Content-Type").map(String::as_str),
            Some("text/event-stream")
        );
        assert_eq!(get("X-Padding").map(String::len), Some(len));
        let preflight = Request {
            method: "OPTIONS",
            ..request
        };
        let headers = response_headers(&config, &preflight, &Kind::Preflight, 100);
        assert!(headers.contains(&("Access-Control-Allow-Methods", "*".into())));
    }

    #[test]
    fn the_host_is_checked_as_xray_does() {
        let mut config = Config::new("/xh");
        config.host = Some("cdn.example.com".into());
        let r = referer("/xh/", 200);
        let with_host =
            |host: &str| classify_with(&config, "POST", "/xh/", &[("Host", host), ("Referer", &r)]);
        for ok in ["cdn.example.com", "CDN.example.com:443"] {
            assert_eq!(with_host(ok), Ok(Kind::StreamOne), "{ok}");
        }
        for wrong in ["other.example.com", "cdn.example.com.evil", "a:b:c", ""] {
            assert_eq!(with_host(wrong), Err(ClassifyError::NotOurHost), "{wrong}");
        }
        config.host = Some("::1".into());
        assert_eq!(
            classify_with(
                &config,
                "POST",
                "/xh/",
                &[("Host", "[::1]:8443"), ("Referer", &r)]
            ),
            Ok(Kind::StreamOne)
        );
        assert!(!host_matches("[::1]", "nothing"));
    }

    #[test]
    fn stream_up_keepalive_follows_the_referer() {
        let config = Config::new("/xh");
        let r = referer("/xh/s", 200);
        let headers = [("Referer", r.as_str())];
        let mut request = Request {
            method: "POST",
            path: "/xh/s",
            query: "",
            headers: &headers,
        };
        assert_eq!(
            stream_up_keepalive(&config, &request),
            Some(DEFAULT_STREAM_UP_KEEPALIVE)
        );
        request.headers = &[];
        assert_eq!(stream_up_keepalive(&config, &request), None);
    }

    #[test]
    fn padding_lengths_picked_stay_in_range() {
        for r in [0, 1, 900, 901, u32::MAX] {
            assert!(DEFAULT_PADDING.contains(DEFAULT_PADDING.pick(r)));
        }
        let one = Range { min: 5, max: 5 };
        assert_eq!(one.pick(77), 5);
        let inverted = Range { min: 9, max: 3 };
        assert_eq!(inverted.pick(77), 9);
    }
}
