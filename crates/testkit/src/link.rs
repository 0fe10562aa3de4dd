//! Parses the `vless://` share links milly prints, the way a user's client app imports them.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("the link does not start with vless://")]
    NotVless,
    #[error("the link has no user id before '@'")]
    NoUserId,
    #[error("the link has no host:port")]
    NoAuthority,
    #[error("the port is not a number from 1 to 65535")]
    BadPort,
    #[error("a query parameter or the name is not valid percent-encoded UTF-8")]
    BadEncoding,
    #[error("security={0} is not one of none, tls, reality")]
    UnknownSecurity(String),
    #[error("security=reality needs the {0} parameter")]
    MissingRealityParam(&'static str),
}

/// How the client wraps the VLESS stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    None,
    Tls,
    Reality {
        public_key: String,
        short_id: String,
        /// `pqv=`: the node's ML-DSA-65 public key (Xray's `mldsa65Verify`).
        mldsa65_verify: Option<String>,
    },
}

/// Everything a client app takes from one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlessLink {
    pub user_id: String,
    /// Without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// `type=`, the transport; milly prints `tcp`.
    pub network: String,
    pub security: Security,
    pub sni: Option<String>,
    /// `fp=`, the uTLS fingerprint the client should imitate.
    pub fingerprint: Option<String>,
    /// `allowInsecure=1`: the certificate is self-signed, do not verify it.
    pub allow_insecure: bool,
    pub flow: Option<String>,
    pub encryption: String,
    pub name: String,
}

impl VlessLink {
    pub fn parse(link: &str) -> Result<Self, LinkError> {
        let rest = link.strip_prefix("vless://").ok_or(LinkError::NotVless)?;
        let (rest, name) = match rest.split_once('#') {
            Some((r, n)) => (r, decode(n)?),
            None => (rest, String::new()),
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (user_id, host_port) = authority.split_once('@').ok_or(LinkError::NoUserId)?;
        let user_id = decode(user_id)?;
        if user_id.is_empty() {
            return Err(LinkError::NoUserId);
        }
        let (host, port) = split_host_port(host_port)?;

        let mut params = HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(k.to_owned(), decode(v)?);
        }
        let mut take = |k: &str| params.remove(k).filter(|v| !v.is_empty());

        let security = match take("security").as_deref() {
            None | Some("none") => Security::None,
            Some("tls") => Security::Tls,
            Some("reality") => Security::Reality {
                public_key: take("pbk").ok_or(LinkError::MissingRealityParam("pbk"))?,
                short_id: take("sid").unwrap_or_default(),
                mldsa65_verify: take("pqv"),
            },
            Some(other) => return Err(LinkError::UnknownSecurity(other.to_owned())),
        };
        Ok(VlessLink {
            user_id,
            host,
            port,
            network: take("type").unwrap_or_else(|| "tcp".into()),
            security,
            sni: take("sni"),
            fingerprint: take("fp"),
            allow_insecure: matches!(take("allowInsecure").as_deref(), Some("1" | "true")),
            flow: take("flow"),
            encryption: take("encryption").unwrap_or_else(|| "none".into()),
            name,
        })
    }

    /// The TLS server name a client sends: the `sni` parameter, else the host.
    pub fn server_name(&self) -> &str {
        self.sni.as_deref().unwrap_or(&self.host)
    }

    /// The same link for another user id, e.g. to play a client whose id the node does not know.
    pub fn with_user_id(&self, user_id: &str) -> Self {
        VlessLink {
            user_id: user_id.to_owned(),
            ..self.clone()
        }
    }
}

/// The 16 bytes of a UUID written as 32 hex digits with or without dashes.
pub fn uuid_bytes(uuid: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = uuid.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(hex.chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
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

    const TLS: &str = "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=tcp&security=tls&sni=vpn.example.com&fp=chrome&allowInsecure=1#milly%20EU%20%231";

    #[test]
    fn a_tls_link_from_milly_yields_every_field() {
        let link = VlessLink::parse(TLS).unwrap();
        assert_eq!(
            link,
            VlessLink {
                user_id: "b831381d-6324-4d53-ad4f-8cda48b30811".into(),
                host: "vpn.example.com".into(),
                port: 443,
                network: "tcp".into(),
                security: Security::Tls,
                sni: Some("vpn.example.com".into()),
                fingerprint: Some("chrome".into()),
                allow_insecure: true,
                flow: None,
                encryption: "none".into(),
                name: "milly EU #1".into(),
            }
        );
    }

    #[test]
    fn a_reality_link_carries_key_short_id_and_flow() {
        let link = VlessLink::parse("vless://b831381d-6324-4d53-ad4f-8cda48b30811@1.2.3.4:8443?encryption=none&type=tcp&security=reality&pbk=Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw&sid=6ba85179e30d4fc2&sni=www.example.org&fp=chrome&flow=xtls-rprx-vision#r").unwrap();
        assert_eq!(
            link.security,
            Security::Reality {
                public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
                short_id: "6ba85179e30d4fc2".into(),
                mldsa65_verify: None
            }
        );
        assert_eq!(link.flow.as_deref(), Some("xtls-rprx-vision"));
        assert_eq!(link.server_name(), "www.example.org");
        assert!(!link.allow_insecure);
    }

    #[test]
    fn bracketed_ipv6_hosts_lose_their_brackets() {
        let link = VlessLink::parse("vless://id@[::1]:4433?security=tls").unwrap();
        assert_eq!((link.host.as_str(), link.port), ("::1", 4433));
        assert_eq!(link.server_name(), "::1");
    }

    #[test]
    fn malformed_links_are_typed_errors() {
        assert_eq!(VlessLink::parse("vmess://x@h:1"), Err(LinkError::NotVless));
        assert_eq!(VlessLink::parse("vless://h:1"), Err(LinkError::NoUserId));
        assert_eq!(
            VlessLink::parse("vless://id@h"),
            Err(LinkError::NoAuthority)
        );
        assert_eq!(VlessLink::parse("vless://id@h:0"), Err(LinkError::BadPort));
        assert_eq!(VlessLink::parse("vless://id@h:x"), Err(LinkError::BadPort));
        assert_eq!(
            VlessLink::parse("vless://id@h:1?security=xtls"),
            Err(LinkError::UnknownSecurity("xtls".into()))
        );
        assert_eq!(
            VlessLink::parse("vless://id@h:1?security=reality&sni=a"),
            Err(LinkError::MissingRealityParam("pbk"))
        );
        assert_eq!(
            VlessLink::parse("vless://id@h:1#%FF"),
            Err(LinkError::BadEncoding)
        );
    }

    #[test]
    fn uuids_become_their_sixteen_bytes() {
        let b = uuid_bytes("b831381d-6324-4d53-ad4f-8cda48b30811").unwrap();
        assert_eq!(b[0], 0xb8);
        assert_eq!(b[15], 0x11);
        assert_eq!(uuid_bytes("b831381d63244d53ad4f8cda48b30811"), Some(b));
        assert_eq!(uuid_bytes("b831381d-6324"), None);
        assert_eq!(uuid_bytes("zz31381d-6324-4d53-ad4f-8cda48b30811"), None);
    }

    #[test]
    fn another_user_id_keeps_the_rest_of_the_link() {
        let link = VlessLink::parse(TLS).unwrap();
        let other = link.with_user_id("00000000-0000-4000-8000-000000000000");
        assert_eq!(other.user_id, "00000000-0000-4000-8000-000000000000");
        assert_eq!(other.server_name(), link.server_name());
    }
}
