//! What must hold for the client's `vless://` link parser (`client::ClientLink::parse`) on any
//! text: links come from subscriptions and chats, so from the network. Shared by the fuzz
//! target and a stable test.

use client::{ClientLink, LinkTransport, Security};

/// Percent-encodes everything but ASCII letters and digits.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn uuid(id: &[u8; 16]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The link printed back from what was parsed, or `None` for a host no link can carry again.
fn print(link: &ClientLink) -> Option<String> {
    let host = if link.host.contains(']') {
        return None;
    } else if link.host.contains(':') || link.host.starts_with('[') {
        format!("[{}]", link.host)
    } else {
        link.host.clone()
    };
    let mut query = vec![
        ("type", link.transport.name().to_owned()),
        ("encryption", "none".to_owned()),
        ("sni", link.server_name.clone()),
    ];
    match &link.transport {
        LinkTransport::Tcp => {}
        LinkTransport::Ws {
            path,
            host,
            early_data,
        } => {
            let ed = if *early_data > 0 {
                format!("?ed={early_data}")
            } else {
                String::new()
            };
            query.push(("path", format!("{path}{ed}")));
            query.extend(host.clone().map(|h| ("host", h)));
        }
        LinkTransport::HttpUpgrade { path, host } => {
            query.push(("path", path.clone()));
            query.extend(host.clone().map(|h| ("host", h)));
        }
        LinkTransport::Xhttp { path, host, mode } => {
            query.push(("path", path.clone()));
            query.extend(host.clone().map(|h| ("host", h)));
            query.push(("mode", mode.name().to_owned()));
        }
        LinkTransport::Grpc { service_name } => {
            query.push(("serviceName", service_name.clone()));
            query.push(("mode", "gun".to_owned()));
        }
    }
    match &link.security {
        Security::Tls { allow_insecure } => {
            query.push(("security", "tls".into()));
            query.push((
                "allowInsecure",
                if *allow_insecure { "1" } else { "0" }.into(),
            ));
        }
        Security::Reality {
            public_key,
            short_id,
            mldsa65_verify,
        } => {
            query.push(("security", "reality".into()));
            query.push(("pbk", public_key.clone()));
            query.push(("sid", short_id.clone()));
            if let Some(pqv) = mldsa65_verify {
                query.push(("pqv", pqv.clone()));
            }
        }
    }
    if let Some(fp) = &link.fingerprint {
        query.push(("fp", fp.clone()));
    }
    if link.vision {
        query.push(("flow", client::VISION_FLOW.into()));
    }
    let query: Vec<String> = query
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode(&v)))
        .collect();
    Some(format!(
        "vless://{}@{host}:{}?{}#{}",
        uuid(&link.user_id),
        link.port,
        query.join("&"),
        encode(&link.name)
    ))
}

/// Parses `data` as a link; panics (a finding) if the parser's contract breaks.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = ClientLink::parse(text);
    assert_eq!(text.parse::<ClientLink>(), parsed);
    let Ok(link) = parsed else {
        return;
    };
    assert!(!link.host.is_empty() && link.port != 0);
    if let Security::Reality { short_id, .. } = &link.security {
        assert!(short_id.len() <= 16 && short_id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    // Debug never shows the user id (nor, so, anything derived from it).
    let debug = format!("{link:?}");
    let id = uuid(&link.user_id);
    if !debug_fields_contain(&link, &id) {
        assert!(!debug.contains(&id), "Debug printed the user id");
    }
    // A parsed link printed again parses to the same link.
    if let Some(again) = print(&link) {
        assert_eq!(ClientLink::parse(&again).as_ref(), Ok(&link), "{again}");
    }
}

/// Whether a field that Debug prints on purpose (the public key) holds `text`.
fn debug_fields_contain(link: &ClientLink, text: &str) -> bool {
    matches!(&link.security, Security::Reality { public_key, .. } if public_key.contains(text))
}
