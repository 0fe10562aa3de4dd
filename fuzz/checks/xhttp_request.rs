//! What must hold for XHTTP's request classifier (`xhttp::request::classify`) on any request an
//! HTTP library could hand it: the input is read as text, a first line `METHOD PATH[?QUERY]`
//! and then `Name: value` header lines. Shared by the fuzz target and a stable test.

use xhttp::request::{
    classify, padding, response_headers, ClassifyError, Config, Kind, Mode, Placement, Request,
    MAX_SESSION_ID,
};

/// The server settings every input is classified against: Xray's defaults, ids in a query
/// parameter and a header with a host to match, and a server that takes packet-up only.
fn configs() -> [Config; 3] {
    let defaults = Config::new("/xh");
    let mut moved = Config::new("/q");
    moved.session = Placement::Query("x_session".into());
    moved.seq = Placement::Header("X-Seq".into());
    moved.host = Some("cdn.example.com".into());
    let mut packet_up = Config::new("/xh/");
    packet_up.mode = Mode::PacketUp;
    [defaults, moved, packet_up]
}

/// Classifies `data` against each configuration; panics (a finding) if the contract breaks.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let (method, target) = first.split_once(' ').unwrap_or((first, ""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n, v.trim_start()))
        .collect();
    let request = Request {
        method,
        path,
        query,
        headers: &headers,
    };
    for config in configs() {
        check(&config, &request);
    }
}

fn check(config: &Config, request: &Request<'_>) {
    let got = classify(config, request);
    assert_eq!(
        got,
        classify(config, request),
        "classification is a function"
    );
    if !request.path.starts_with(&config.path()) {
        assert!(
            matches!(
                got,
                Err(ClassifyError::NotOurPath | ClassifyError::NotOurHost)
            ),
            "off the path is 404"
        );
    }
    if got == Err(ClassifyError::NotOurPath) {
        assert!(!request.path.starts_with(&config.path()));
    }
    if got == Err(ClassifyError::NotOurHost) {
        assert!(config.host.is_some());
    }
    if let Ok(kind) = &got {
        check_kind(config, request, kind);
    }
    if let Err(e) = got {
        assert!(matches!(e.status(), 400 | 404 | 500));
    }
}

fn check_kind(config: &Config, request: &Request<'_>, kind: &Kind) {
    assert_eq!(*kind == Kind::Preflight, request.method == "OPTIONS");
    if let Some(session) = kind.session() {
        assert!(!session.is_empty() && session.len() <= MAX_SESSION_ID);
    }
    match kind {
        Kind::Download { .. } => assert_eq!(request.method, "GET"),
        Kind::StreamUp { .. } => assert_ne!(request.method, "GET"),
        Kind::StreamOne => assert_ne!(config.mode, Mode::PacketUp),
        Kind::PacketUp { .. } => {
            assert!(matches!(config.mode, Mode::Auto | Mode::PacketUp))
        }
        Kind::Preflight => {}
    }
    if config.session == Placement::Path {
        if let Some(session) = kind.session() {
            let rest = &request.path[config.path().len()..];
            assert_eq!(rest.split('/').next(), Some(session), "the first segment");
        }
    }
    let len = request.path.len() % 50;
    let headers = response_headers(config, request, kind, len);
    assert!(headers.contains(&("X-Padding", padding(len))));
}
