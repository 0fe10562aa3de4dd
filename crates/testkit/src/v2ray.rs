//! v2ray 4.34 client configuration (JSON v4 schema) built from a share link; its document,
//! SOCKS5 inbound and VLESS outbound are also Xray-core's (`crate::xray` builds on them).

use std::net::SocketAddr;

use client::{ClientLink, LinkTransport, Security, VISION_FLOW};
use serde_json::{json, Value};

use crate::user_uuid;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum V2RayConfigError {
    #[error("v2ray 4.34 has no REALITY")]
    RealityUnsupported,
    #[error("v2ray 4.34 has no flow {0}")]
    FlowUnsupported(&'static str),
    #[error("v2ray 4.34 has no transport {0}")]
    TransportUnsupported(&'static str),
}

/// A client with a SOCKS5 inbound on `socks` (UDP enabled, answering on the same address) and one
/// VLESS outbound to the link's node. v2ray 4.34 carries UDP as plain VLESS UDP (command 2).
/// `security_none` sends VLESS in the clear whatever the link says (see
/// [`crate::singbox::ClientOptions`]).
pub fn client_config(
    link: &ClientLink,
    socks: SocketAddr,
    security_none: bool,
) -> Result<Value, V2RayConfigError> {
    if link.vision {
        return Err(V2RayConfigError::FlowUnsupported(VISION_FLOW));
    }
    let stream = match &link.security {
        Security::Reality { .. } => return Err(V2RayConfigError::RealityUnsupported),
        _ if security_none => json!({ "network": "tcp", "security": "none" }),
        Security::Tls { allow_insecure } => {
            let mut stream = tls_stream(link, *allow_insecure);
            match &link.transport {
                LinkTransport::Tcp => {}
                // v2ray 4.34's own WebSocket settings; its early data is not Xray's, so none.
                LinkTransport::Ws { path, host, .. } => {
                    stream["network"] = json!("ws");
                    let mut ws = json!({ "path": path });
                    if let Some(host) = host {
                        ws["headers"] = json!({ "Host": host });
                    }
                    stream["wsSettings"] = ws;
                }
                // 4.34 knows neither: gRPC ("gun") came in v2fly 4.35 (its `v2ray -test`
                // answers "unknown transport protocol" for grpc and gun), XHTTP only in Xray.
                LinkTransport::HttpUpgrade { .. }
                | LinkTransport::Xhttp { .. }
                | LinkTransport::Grpc { .. } => {
                    return Err(V2RayConfigError::TransportUnsupported(
                        link.transport.name(),
                    ))
                }
            }
            stream
        }
    };
    let user = json!({ "id": user_uuid(link), "encryption": "none" });
    Ok(client_document(
        vec![socks_inbound(socks)],
        vless_outbound(link, user, stream),
    ))
}

/// A v2ray-format client (Xray-core reads the same) with these inbounds and one outbound.
pub(crate) fn client_document(inbounds: Vec<Value>, outbound: Value) -> Value {
    json!({
        "log": { "loglevel": "warning" },
        "inbounds": inbounds,
        "outbounds": [outbound],
    })
}

/// VLESS over TLS to the link's server name, its certificate checked unless `allow_insecure`.
pub(crate) fn tls_stream(link: &ClientLink, allow_insecure: bool) -> Value {
    json!({
        "network": "tcp",
        "security": "tls",
        "tlsSettings": {
            "serverName": link.server_name,
            "allowInsecure": allow_insecure,
        },
    })
}

/// The SOCKS5 inbound on `socks`, UDP enabled and answered on the same address.
pub(crate) fn socks_inbound(socks: SocketAddr) -> Value {
    json!({
        "tag": "socks-in",
        "listen": socks.ip().to_string(),
        "port": socks.port(),
        "protocol": "socks",
        "settings": { "auth": "noauth", "udp": true, "ip": socks.ip().to_string() },
    })
}

/// The VLESS outbound to the link's node as `user`, over `stream`.
pub(crate) fn vless_outbound(link: &ClientLink, user: Value, stream: Value) -> Value {
    json!({
        "tag": "proxy",
        "protocol": "vless",
        "settings": {
            "vnext": [{
                "address": link.host,
                "port": link.port,
                "users": [user],
            }],
        },
        "streamSettings": stream,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socks() -> SocketAddr {
        "127.0.0.1:1081".parse().unwrap()
    }

    #[test]
    fn a_tls_link_becomes_a_vless_outbound_with_tls_settings() {
        let l = ClientLink::parse("vless://b831381d-6324-4d53-ad4f-8cda48b30811@127.0.0.1:4433?encryption=none&type=tcp&security=tls&sni=localhost&fp=chrome&allowInsecure=1#n").unwrap();
        let c = client_config(&l, socks(), false).unwrap();
        let inbound = &c["inbounds"][0];
        assert_eq!(inbound["protocol"], "socks");
        assert_eq!(inbound["port"], 1081);
        assert_eq!(inbound["settings"]["udp"], true);
        let out = &c["outbounds"][0];
        assert_eq!(out["protocol"], "vless");
        assert_eq!(
            out["settings"]["vnext"][0],
            json!({"address": "127.0.0.1", "port": 4433, "users": [{"id": "b831381d-6324-4d53-ad4f-8cda48b30811", "encryption": "none"}]})
        );
        assert_eq!(
            out["streamSettings"],
            json!({"network": "tcp", "security": "tls", "tlsSettings": {"serverName": "localhost", "allowInsecure": true}})
        );
    }

    #[test]
    fn reality_and_vision_links_are_refused_because_v2ray_lacks_them() {
        let reality = ClientLink::parse(
            "vless://b831381d-6324-4d53-ad4f-8cda48b30811@h:443?security=reality&pbk=K&sid=1",
        )
        .unwrap();
        assert_eq!(
            client_config(&reality, socks(), false),
            Err(V2RayConfigError::RealityUnsupported)
        );
        let vision = ClientLink::parse(
            "vless://b831381d-6324-4d53-ad4f-8cda48b30811@h:443?security=tls&flow=xtls-rprx-vision",
        )
        .unwrap();
        assert_eq!(
            client_config(&vision, socks(), false),
            Err(V2RayConfigError::FlowUnsupported("xtls-rprx-vision"))
        );
    }

    #[test]
    fn grpc_xhttp_and_httpupgrade_links_are_refused_because_v2ray_434_lacks_them() {
        for (query, name) in [
            ("type=grpc&serviceName=s.grpc&mode=gun", "grpc"),
            ("type=xhttp&path=%2Fs%2Fxh&mode=auto", "xhttp"),
            ("type=httpupgrade&path=%2Fs%2Fup", "httpupgrade"),
        ] {
            let link = ClientLink::parse(&format!(
                "vless://b831381d-6324-4d53-ad4f-8cda48b30811@h:443?{query}&security=tls"
            ))
            .unwrap();
            assert_eq!(
                client_config(&link, socks(), false),
                Err(V2RayConfigError::TransportUnsupported(name))
            );
        }
    }
}
