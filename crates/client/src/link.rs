//! `vless://` share links as milly prints them (`domain::link`), parsed into what the client dials.
//!
//! Only what milly prints is accepted: `type=tcp`, `ws`, `httpupgrade`, `xhttp` or `grpc`,
//! `encryption=none`, `security=tls` or `security=reality` (with `pbk`), and no flow or
//! `xtls-rprx-vision`. Anything else is a typed
//! error naming the parameter, never a silent guess. Errors never contain the user id.

use std::collections::HashMap;
use std::fmt;

use percent_encoding::percent_decode_str;

/// The only flow a link may name.
pub const VISION_FLOW: &str = "xtls-rprx-vision";

/// Why a string is not a link milly would print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link does not start with vless://")]
    NotVless,
    #[error("the link has no user id before '@'")]
    NoUserId,
    #[error("the user id is not a UUID")]
    BadUserId,
    #[error("the link has no host:port after '@'")]
    NoAuthority,
    #[error("the port is not a number from 1 to 65535")]
    BadPort,
    #[error("a query parameter or the name is not valid percent-encoded UTF-8")]
    BadEncoding,
    #[error("the link names no security; milly prints security=tls or security=reality")]
    NoSecurity,
    #[error("security={0} is not supported; milly prints tls or reality")]
    UnknownSecurity(String),
    #[error("type={0} is not supported; milly prints type=tcp, ws, httpupgrade, xhttp or grpc")]
    UnsupportedTransport(String),
    #[error("mode={0} is not an XHTTP mode: auto, packet-up, stream-up or stream-one")]
    UnknownXhttpMode(String),
    #[error("mode={0} is not supported for gRPC; milly prints mode=gun")]
    UnsupportedGrpcMode(String),
    #[error("type=grpc needs the serviceName parameter")]
    NoServiceName,
    #[error("encryption={0} is not supported; milly prints encryption=none")]
    UnsupportedEncryption(String),
    #[error("flow={0} is not supported; milly prints no flow or xtls-rprx-vision")]
    UnsupportedFlow(String),
    #[error("security=reality needs the {0} parameter")]
    MissingRealityParam(&'static str),
    #[error("sid must be at most 16 hex digits")]
    BadShortId,
    #[error("allowInsecure={0} is neither 0/false nor 1/true")]
    BadAllowInsecure(String),
}

/// How the VLESS stream is wrapped on the way to the node.
#[derive(Clone, PartialEq, Eq)]
pub enum Security {
    /// TLS to the node; `allow_insecure` is the link's `allowInsecure=1`: the node's certificate
    /// is self-signed and the link asks the client not to verify it.
    Tls { allow_insecure: bool },
    /// REALITY: `public_key` is the node's X25519 key (`pbk`, unpadded base64url),
    /// `short_id` the `sid` (hex, possibly empty) and `mldsa65_verify` the node's ML-DSA-65
    /// public key (`pqv`, Xray's `mldsa65Verify`) when the link asks for that check.
    Reality {
        public_key: String,
        short_id: String,
        mldsa65_verify: Option<String>,
    },
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Security::Tls { allow_insecure } => f
                .debug_struct("Tls")
                .field("allow_insecure", allow_insecure)
                .finish(),
            // The short id works like a password for the node; the key is public.
            Security::Reality {
                public_key,
                mldsa65_verify,
                ..
            } => f
                .debug_struct("Reality")
                .field("public_key", public_key)
                .field("mldsa65", &mldsa65_verify.is_some())
                .finish_non_exhaustive(),
        }
    }
}

/// How VLESS is carried inside the TLS or REALITY: `type=tcp`, `type=ws` (with `path`, whose
/// `?ed=N` is the early data a client may send in the upgrade, and `host`),
/// `type=httpupgrade`, `type=xhttp` (with `path`, `host` and `mode`) or `type=grpc` (with
/// `serviceName`; `mode=gun`, the only one milly prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTransport {
    Tcp,
    Ws {
        path: String,
        host: Option<String>,
        early_data: u32,
    },
    HttpUpgrade {
        path: String,
        host: Option<String>,
    },
    Xhttp {
        path: String,
        host: Option<String>,
        mode: XhttpMode,
    },
    Grpc {
        service_name: String,
    },
}

impl LinkTransport {
    /// The link's `type=`.
    pub fn name(&self) -> &'static str {
        match self {
            LinkTransport::Tcp => "tcp",
            LinkTransport::Ws { .. } => "ws",
            LinkTransport::HttpUpgrade { .. } => "httpupgrade",
            LinkTransport::Xhttp { .. } => "xhttp",
            LinkTransport::Grpc { .. } => "grpc",
        }
    }
}

/// How an XHTTP client sends its upload and receives its download (Xray's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XhttpMode {
    /// The client picks one by what it dials (Xray decides per security and settings).
    #[default]
    Auto,
    /// Upload as a series of POSTs, download as one long GET.
    PacketUp,
    /// Upload as one streaming POST, download as one long GET.
    StreamUp,
    /// Upload and download in one streaming POST.
    StreamOne,
}

impl XhttpMode {
    /// The name in links and Xray's `xhttpSettings.mode`.
    pub fn name(self) -> &'static str {
        match self {
            XhttpMode::Auto => "auto",
            XhttpMode::PacketUp => "packet-up",
            XhttpMode::StreamUp => "stream-up",
            XhttpMode::StreamOne => "stream-one",
        }
    }
}

impl std::str::FromStr for XhttpMode {
    type Err = LinkError;

    fn from_str(s: &str) -> Result<Self, LinkError> {
        [
            XhttpMode::Auto,
            XhttpMode::PacketUp,
            XhttpMode::StreamUp,
            XhttpMode::StreamOne,
        ]
        .into_iter()
        .find(|m| m.name() == s)
        .ok_or_else(|| LinkError::UnknownXhttpMode(s.to_owned()))
    }
}

/// A request path as Xray's clients send it: always from the root (`ws?ed=1` and `` are `/`).
fn absolute_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

/// Everything the client takes from one link. `Debug` leaves out the user id and the host.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientLink {
    pub user_id: [u8; 16],
    /// Without IPv6 brackets.
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The TLS server name: `sni`, else the host.
    pub server_name: String,
    /// `fp`, the browser the ClientHello should look like (milly prints `chrome`).
    pub fingerprint: Option<String>,
    /// `flow=xtls-rprx-vision`.
    pub vision: bool,
    /// `type=` and its parameters.
    pub transport: LinkTransport,
    /// The `#name` part.
    pub name: String,
}

impl fmt::Debug for ClientLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientLink")
            .field("port", &self.port)
            .field("security", &self.security)
            .field("vision", &self.vision)
            .field("transport", &self.transport.name())
            .finish_non_exhaustive()
    }
}

impl std::str::FromStr for ClientLink {
    type Err = LinkError;

    fn from_str(s: &str) -> Result<Self, LinkError> {
        ClientLink::parse(s)
    }
}

impl ClientLink {
    pub fn parse(link: &str) -> Result<Self, LinkError> {
        let rest = link
            .trim()
            .strip_prefix("vless://")
            .ok_or(LinkError::NotVless)?;
        let (rest, name) = match rest.split_once('#') {
            Some((r, n)) => (r, decode(n)?),
            None => (rest, String::new()),
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (user, host_port) = authority.rsplit_once('@').ok_or(LinkError::NoUserId)?;
        let user = decode(user)?;
        if user.is_empty() {
            return Err(LinkError::NoUserId);
        }
        let user_id = *uuid::Uuid::parse_str(&user)
            .map_err(|_| LinkError::BadUserId)?
            .as_bytes();
        let (host, port) = split_host_port(host_port)?;

        let mut params = HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(k.to_owned(), decode(v)?);
        }
        let mut take = |k: &str| params.remove(k).filter(|v| !v.is_empty());

        let transport = match take("type").as_deref() {
            None | Some("tcp" | "raw") => LinkTransport::Tcp,
            Some("ws") => {
                let full = take("path").unwrap_or_else(|| "/".into());
                let (path, query) = full.split_once('?').unwrap_or((&full, ""));
                let early_data = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("ed="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                LinkTransport::Ws {
                    path: absolute_path(path),
                    host: take("host"),
                    early_data,
                }
            }
            Some("httpupgrade") => LinkTransport::HttpUpgrade {
                path: absolute_path(&take("path").unwrap_or_default()),
                host: take("host"),
            },
            Some("xhttp") => LinkTransport::Xhttp {
                path: absolute_path(&take("path").unwrap_or_default()),
                host: take("host"),
                mode: take("mode").as_deref().unwrap_or("auto").parse()?,
            },
            Some("grpc") => {
                if let Some(mode) = take("mode").filter(|m| m != "gun") {
                    return Err(LinkError::UnsupportedGrpcMode(mode));
                }
                LinkTransport::Grpc {
                    service_name: take("serviceName").ok_or(LinkError::NoServiceName)?,
                }
            }
            Some(other) => return Err(LinkError::UnsupportedTransport(other.to_owned())),
        };
        if let Some(e) = take("encryption").filter(|e| e != "none") {
            return Err(LinkError::UnsupportedEncryption(e));
        }
        let vision = match take("flow").as_deref() {
            None => false,
            Some(VISION_FLOW) => true,
            Some(other) => return Err(LinkError::UnsupportedFlow(other.to_owned())),
        };
        let allow_insecure = match take("allowInsecure").as_deref() {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => return Err(LinkError::BadAllowInsecure(other.to_owned())),
        };
        let security = match take("security").as_deref() {
            None | Some("none") => return Err(LinkError::NoSecurity),
            Some("tls") => Security::Tls { allow_insecure },
            Some("reality") => {
                let public_key = take("pbk").ok_or(LinkError::MissingRealityParam("pbk"))?;
                let short_id = take("sid").unwrap_or_default();
                if short_id.len() > 16 || !short_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(LinkError::BadShortId);
                }
                Security::Reality {
                    public_key,
                    short_id,
                    mldsa65_verify: take("pqv"),
                }
            }
            Some(other) => return Err(LinkError::UnknownSecurity(other.to_owned())),
        };
        Ok(ClientLink {
            user_id,
            server_name: take("sni").unwrap_or_else(|| host.clone()),
            host,
            port,
            security,
            fingerprint: take("fp"),
            vision,
            transport,
            name,
        })
    }
}

fn decode(s: &str) -> Result<String, LinkError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| LinkError::BadEncoding)
}

fn split_host_port(s: &str) -> Result<(String, u16), LinkError> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or(LinkError::NoAuthority)?;
        (host, after.strip_prefix(':').ok_or(LinkError::NoAuthority)?)
    } else {
        s.rsplit_once(':').ok_or(LinkError::NoAuthority)?
    };
    if host.is_empty() {
        return Err(LinkError::NoAuthority);
    }
    let port: u16 = port.parse().map_err(|_| LinkError::BadPort)?;
    if port == 0 {
        return Err(LinkError::BadPort);
    }
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exactly what `domain::link::share_link` prints for a TLS node with a self-signed cert.
    const TLS: &str = "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=tcp&security=tls&sni=vpn.example.com&fp=chrome&allowInsecure=1#milly%20EU%20%231";
    /// Exactly what it prints for a REALITY node.
    const REALITY: &str = "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=tcp&security=reality&pbk=Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw&sid=6ba85179e30d4fc2&sni=www.example.org&fp=chrome&flow=xtls-rprx-vision#milly%20EU%20%231";

    fn with(query: &str) -> Result<ClientLink, LinkError> {
        ClientLink::parse(&format!(
            "vless://b831381d-6324-4d53-ad4f-8cda48b30811@h:1?{query}"
        ))
    }

    #[test]
    fn a_tls_link_from_milly_yields_every_field() {
        let link = ClientLink::parse(TLS).unwrap();
        assert_eq!(link.user_id[0], 0xb8);
        assert_eq!(link.user_id[15], 0x11);
        assert_eq!((link.host.as_str(), link.port), ("vpn.example.com", 443));
        assert_eq!(
            link.security,
            Security::Tls {
                allow_insecure: true
            }
        );
        assert_eq!(link.server_name, "vpn.example.com");
        assert_eq!(link.fingerprint.as_deref(), Some("chrome"));
        assert!(!link.vision);
        assert_eq!(link.name, "milly EU #1");
    }

    #[test]
    fn a_reality_link_from_milly_carries_key_short_id_sni_and_vision() {
        let link = ClientLink::parse(REALITY).unwrap();
        assert_eq!(
            link.security,
            Security::Reality {
                public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
                short_id: "6ba85179e30d4fc2".into(),
                mldsa65_verify: None,
            }
        );
        assert_eq!(link.server_name, "www.example.org");
        assert!(link.vision);
    }

    #[test]
    fn a_reality_link_with_pqv_asks_for_the_mldsa65_check() {
        let link = ClientLink::parse(&REALITY.replace("&sni=", "&pqv=Ab-_&sni=")).unwrap();
        let Security::Reality { mldsa65_verify, .. } = link.security else {
            panic!("not a REALITY link")
        };
        assert_eq!(mldsa65_verify.as_deref(), Some("Ab-_"));
    }

    #[test]
    fn without_sni_the_host_is_the_server_name_and_ipv6_loses_its_brackets() {
        let link = ClientLink::parse(
            "vless://b831381d-6324-4d53-ad4f-8cda48b30811@[::1]:4433?security=tls",
        )
        .unwrap();
        assert_eq!((link.host.as_str(), link.port), ("::1", 4433));
        assert_eq!(link.server_name, "::1");
        assert_eq!(
            link.security,
            Security::Tls {
                allow_insecure: false
            }
        );
    }

    #[test]
    fn links_milly_would_never_print_are_typed_errors() {
        assert_eq!(ClientLink::parse("vmess://x@h:1"), Err(LinkError::NotVless));
        assert_eq!(ClientLink::parse("vless://h:1"), Err(LinkError::NoUserId));
        assert_eq!(
            ClientLink::parse("vless://not-a-uuid@h:1?security=tls"),
            Err(LinkError::BadUserId)
        );
        assert_eq!(
            ClientLink::parse("vless://b831381d-6324-4d53-ad4f-8cda48b30811@h"),
            Err(LinkError::NoAuthority)
        );
        assert_eq!(
            ClientLink::parse("vless://b831381d-6324-4d53-ad4f-8cda48b30811@h:0"),
            Err(LinkError::BadPort)
        );
        assert_eq!(
            with("type=kcp&security=tls"),
            Err(LinkError::UnsupportedTransport("kcp".into()))
        );
        assert_eq!(
            with("encryption=aes&security=tls"),
            Err(LinkError::UnsupportedEncryption("aes".into()))
        );
        assert_eq!(
            with("security=tls&flow=xtls-rprx-direct"),
            Err(LinkError::UnsupportedFlow("xtls-rprx-direct".into()))
        );
        assert_eq!(with("type=tcp"), Err(LinkError::NoSecurity));
        assert_eq!(with("security=none"), Err(LinkError::NoSecurity));
        assert_eq!(
            with("security=xtls"),
            Err(LinkError::UnknownSecurity("xtls".into()))
        );
        assert_eq!(
            with("security=reality&sni=a"),
            Err(LinkError::MissingRealityParam("pbk"))
        );
        assert_eq!(
            with("security=reality&pbk=k&sid=xyz"),
            Err(LinkError::BadShortId)
        );
        assert_eq!(
            with("security=tls&allowInsecure=yes"),
            Err(LinkError::BadAllowInsecure("yes".into()))
        );
        assert_eq!(with("security=tls#%FF"), Err(LinkError::BadEncoding));
    }

    #[test]
    fn debug_output_shows_neither_the_user_id_nor_the_host_nor_the_short_id() {
        let text = format!("{:?}", ClientLink::parse(REALITY).unwrap());
        assert!(!text.contains("b831381d"), "{text}");
        assert!(!text.contains("vpn.example.com"), "{text}");
        assert!(!text.contains("6ba85179e30d4fc2"), "{text}");
    }

    #[test]
    fn ws_and_httpupgrade_links_carry_path_host_and_early_data() {
        let ws = with("type=ws&path=%2Fs3c%2Fws%3Fed%3D2048&host=a.example&security=tls").unwrap();
        assert_eq!(
            ws.transport,
            LinkTransport::Ws {
                path: "/s3c/ws".into(),
                host: Some("a.example".into()),
                early_data: 2048
            }
        );
        let up = with("type=httpupgrade&path=%2Fs3c%2Fup&security=tls").unwrap();
        assert_eq!(
            up.transport,
            LinkTransport::HttpUpgrade {
                path: "/s3c/up".into(),
                host: None
            }
        );
        assert!(matches!(
            crate::Outbound::new(&up),
            Err(crate::OutboundError::Transport("httpupgrade"))
        ));
        // Paths are from the root, as Xray's clients request them.
        for (query, path) in [
            ("type=ws&path=%3Fed%3D5&security=tls", "/"),
            ("type=ws&security=tls", "/"),
            ("type=httpupgrade&path=up&security=tls", "/up"),
        ] {
            let link = with(query).unwrap();
            let (LinkTransport::Ws { path: got, .. }
            | LinkTransport::HttpUpgrade { path: got, .. }) = &link.transport
            else {
                panic!("{query}")
            };
            assert_eq!(got, path, "{query}");
        }
    }

    #[test]
    fn xhttp_and_grpc_links_carry_path_host_mode_and_service_name() {
        // Exactly what `domain::link` prints over REALITY (no flow: Vision is for raw TCP).
        let xhttp = REALITY
            .replace(
                "type=tcp",
                "type=xhttp&path=%2Fs3c%2Fxh&mode=auto&host=www.example.org",
            )
            .replace("&flow=xtls-rprx-vision", "");
        let link = ClientLink::parse(&xhttp).unwrap();
        assert_eq!(
            link.transport,
            LinkTransport::Xhttp {
                path: "/s3c/xh".into(),
                host: Some("www.example.org".into()),
                mode: XhttpMode::Auto,
            }
        );
        assert!(!link.vision);
        let grpc = TLS.replace("type=tcp", "type=grpc&serviceName=s3c.grpc&mode=gun");
        let link = ClientLink::parse(&grpc).unwrap();
        assert_eq!(
            link.transport,
            LinkTransport::Grpc {
                service_name: "s3c.grpc".into()
            }
        );
        assert!(matches!(
            crate::Outbound::new(&link),
            Err(crate::OutboundError::Transport("grpc"))
        ));
        for mode in [
            XhttpMode::Auto,
            XhttpMode::PacketUp,
            XhttpMode::StreamUp,
            XhttpMode::StreamOne,
        ] {
            let link = with(&format!("type=xhttp&mode={}&security=tls", mode.name())).unwrap();
            assert_eq!(
                link.transport,
                LinkTransport::Xhttp {
                    path: "/".into(),
                    host: None,
                    mode
                }
            );
        }
        assert_eq!(
            with("type=xhttp&mode=stream-two&security=tls"),
            Err(LinkError::UnknownXhttpMode("stream-two".into()))
        );
        assert_eq!(
            with("type=grpc&security=tls"),
            Err(LinkError::NoServiceName)
        );
        assert_eq!(
            with("type=grpc&serviceName=a&mode=multi&security=tls"),
            Err(LinkError::UnsupportedGrpcMode("multi".into()))
        );
    }
}
