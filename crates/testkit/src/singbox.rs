//! sing-box configurations: a client built from a share link, and a VLESS+TLS server to compare with.

use std::net::SocketAddr;
use std::path::Path;

use client::{ClientLink, LinkTransport, Security, VISION_FLOW};
use serde_json::{json, Value};

use crate::user_uuid;

/// How the client carries UDP inside VLESS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PacketEncoding {
    /// XUDP over Mux.Cool (command 3), sing-box's default and what an imported link gets.
    #[default]
    Xudp,
    /// Plain VLESS UDP (command 2), one stream per destination.
    Plain,
}

/// Why a link has no sing-box client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SingBoxConfigError {
    #[error("sing-box has no transport {0}")]
    TransportUnsupported(&'static str),
}

/// Choices a client app makes that the link does not carry.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub packet_encoding: PacketEncoding,
    /// Imitate the link's `fp` with uTLS. Off by default: the PyPI build of sing-box lacks
    /// `with_utls` and refuses configs that ask for it.
    pub utls: bool,
    /// Port forwards through the node, `(listen, target)`: for tools that speak no SOCKS
    /// (iperf3 in the benchmark).
    pub forwards: Vec<(SocketAddr, SocketAddr)>,
    /// VLESS in the clear whatever the link says (`security: none`): only to capture plain
    /// VLESS requests for the fuzz corpora, milly never prints such a link.
    pub security_none: bool,
    /// XHTTP's mode instead of the link's: for Xray, which [`crate::peer::Peer::client`]
    /// passes it to (sing-box has no XHTTP).
    pub xhttp_mode: Option<client::XhttpMode>,
}

/// A client with a SOCKS5 inbound (TCP CONNECT and UDP ASSOCIATE) on `socks` and one VLESS
/// outbound to the link's node; none for an XHTTP link, which sing-box cannot speak.
pub fn client_config(
    link: &ClientLink,
    socks: SocketAddr,
    options: &ClientOptions,
) -> Result<Value, SingBoxConfigError> {
    let mut outbound = json!({
        "type": "vless",
        "tag": "proxy",
        "server": link.host,
        "server_port": link.port,
        "uuid": user_uuid(link),
        "packet_encoding": match options.packet_encoding {
            PacketEncoding::Xudp => "xudp",
            PacketEncoding::Plain => "",
        },
    });
    if link.vision {
        outbound["flow"] = json!(VISION_FLOW);
    }
    if let Some(tls) = tls_options(link, options) {
        outbound["tls"] = tls;
    }
    match &link.transport {
        LinkTransport::Tcp => {}
        // As sing-box-based apps import a link: Xray-style early data in the protocol header.
        LinkTransport::Ws {
            path,
            host,
            early_data,
        } => {
            let mut ws = json!({ "type": "ws", "path": path });
            if let Some(host) = host {
                ws["headers"] = json!({ "Host": host });
            }
            if *early_data > 0 {
                ws["max_early_data"] = json!(early_data);
                ws["early_data_header_name"] = json!("Sec-WebSocket-Protocol");
            }
            outbound["transport"] = ws;
        }
        LinkTransport::HttpUpgrade { path, host } => {
            let mut up = json!({ "type": "httpupgrade", "path": path });
            if let Some(host) = host {
                up["host"] = json!(host);
            }
            outbound["transport"] = up;
        }
        LinkTransport::Grpc { service_name } => {
            outbound["transport"] = json!({ "type": "grpc", "service_name": service_name });
        }
        LinkTransport::Xhttp { .. } => {
            return Err(SingBoxConfigError::TransportUnsupported("xhttp"));
        }
    }
    let mut inbounds = vec![json!({
        "type": "socks",
        "tag": "socks-in",
        "listen": socks.ip().to_string(),
        "listen_port": socks.port(),
    })];
    for (i, (listen, target)) in options.forwards.iter().enumerate() {
        inbounds.push(json!({
            "type": "direct",
            "tag": format!("forward-{i}"),
            "listen": listen.ip().to_string(),
            "listen_port": listen.port(),
            "override_address": target.ip().to_string(),
            "override_port": target.port(),
        }));
    }
    Ok(json!({
        "log": { "level": "warn", "timestamp": true },
        "inbounds": inbounds,
        "outbounds": [outbound],
    }))
}

fn tls_options(link: &ClientLink, options: &ClientOptions) -> Option<Value> {
    if options.security_none {
        return None;
    }
    let mut tls = json!({
        "enabled": true,
        "server_name": link.server_name,
    });
    match &link.security {
        Security::Tls { allow_insecure } => tls["insecure"] = json!(allow_insecure),
        // sing-box has no ML-DSA-65 check; `pqv` is optional for clients.
        Security::Reality {
            public_key,
            short_id,
            ..
        } => {
            tls["reality"] = json!({
                "enabled": true,
                "public_key": public_key,
                "short_id": short_id,
            });
        }
    }
    let reality = matches!(link.security, Security::Reality { .. });
    if options.utls || reality {
        // sing-box's REALITY client only exists on top of uTLS.
        let fingerprint = link.fingerprint.as_deref().unwrap_or("chrome");
        tls["utls"] = json!({ "enabled": true, "fingerprint": fingerprint });
    }
    Some(tls)
}

/// A VLESS+TLS server on `listen` accepting `user_ids`, relaying directly: the reference node the
/// peer tests and the benchmark compare milly with.
pub fn server_config(listen: SocketAddr, user_ids: &[&str], cert: &Path, key: &Path) -> Value {
    let users: Vec<Value> = user_ids.iter().map(|id| json!({ "uuid": id })).collect();
    json!({
        "log": { "level": "warn", "timestamp": true },
        "inbounds": [{
            "type": "vless",
            "tag": "vless-in",
            "listen": listen.ip().to_string(),
            "listen_port": listen.port(),
            "users": users,
            "tls": {
                "enabled": true,
                "certificate_path": cert,
                "key_path": key,
            },
        }],
        "outbounds": [{ "type": "direct", "tag": "direct" }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "b831381d-6324-4d53-ad4f-8cda48b30811";

    fn link(s: &str) -> ClientLink {
        ClientLink::parse(&s.replace("vless://id@", &format!("vless://{ID}@"))).unwrap()
    }

    fn config(link: &ClientLink, options: &ClientOptions) -> Value {
        client_config(link, "127.0.0.1:1".parse().unwrap(), options).unwrap()
    }

    #[test]
    fn a_tls_link_becomes_a_vless_outbound_with_insecure_tls_and_xudp() {
        let l = link("vless://b831381d-6324-4d53-ad4f-8cda48b30811@127.0.0.1:4433?encryption=none&type=tcp&security=tls&sni=localhost&fp=chrome&allowInsecure=1#n");
        let c = client_config(&l, "127.0.0.1:1080".parse().unwrap(), &Default::default()).unwrap();
        assert_eq!(c["inbounds"][0]["type"], "socks");
        assert_eq!(c["inbounds"][0]["listen_port"], 1080);
        let out = &c["outbounds"][0];
        assert_eq!(out["type"], "vless");
        assert_eq!(out["server"], "127.0.0.1");
        assert_eq!(out["server_port"], 4433);
        assert_eq!(out["uuid"], "b831381d-6324-4d53-ad4f-8cda48b30811");
        assert_eq!(out["packet_encoding"], "xudp");
        assert_eq!(
            out["tls"],
            json!({"enabled": true, "server_name": "localhost", "insecure": true})
        );
        assert!(out.get("flow").is_none());
    }

    #[test]
    fn a_verified_certificate_is_not_marked_insecure_and_utls_follows_the_fingerprint() {
        let l = link("vless://id@h:443?security=tls&sni=vpn.example.com&fp=firefox");
        let options = ClientOptions {
            packet_encoding: PacketEncoding::Plain,
            utls: true,
            ..Default::default()
        };
        let c = config(&l, &options);
        let out = &c["outbounds"][0];
        assert_eq!(out["packet_encoding"], "");
        assert_eq!(out["tls"]["insecure"], false);
        assert_eq!(
            out["tls"]["utls"],
            json!({"enabled": true, "fingerprint": "firefox"})
        );
    }

    #[test]
    fn a_reality_link_gets_reality_on_utls_and_the_vision_flow() {
        let l = link("vless://id@h:443?security=reality&pbk=KEY&sid=ab&sni=www.example.org&fp=chrome&flow=xtls-rprx-vision");
        let c = config(&l, &Default::default());
        let out = &c["outbounds"][0];
        assert_eq!(out["flow"], "xtls-rprx-vision");
        assert_eq!(
            out["tls"]["reality"],
            json!({"enabled": true, "public_key": "KEY", "short_id": "ab"})
        );
        assert_eq!(out["tls"]["utls"]["enabled"], true);
        assert_eq!(out["tls"]["server_name"], "www.example.org");
    }

    #[test]
    fn forwards_become_direct_inbounds_with_a_fixed_destination() {
        let options = ClientOptions {
            forwards: vec![(
                "127.0.0.1:5202".parse().unwrap(),
                "127.0.0.1:5201".parse().unwrap(),
            )],
            ..Default::default()
        };
        let c = config(&link("vless://id@h:443?security=tls"), &options);
        assert_eq!(
            c["inbounds"][1],
            json!({"type": "direct", "tag": "forward-0", "listen": "127.0.0.1", "listen_port": 5202,
                   "override_address": "127.0.0.1", "override_port": 5201})
        );
    }

    #[test]
    fn security_none_sends_no_tls_and_other_transports_never_reach_a_config() {
        let options = ClientOptions {
            security_none: true,
            ..Default::default()
        };
        let c = config(&link("vless://id@h:80?security=tls"), &options);
        assert!(c["outbounds"][0].get("tls").is_none());
        // Only links milly prints are parsed: type=tcp, ws, httpupgrade, xhttp or grpc.
        assert_eq!(
            ClientLink::parse(&format!("vless://{ID}@h:80?type=kcp&security=tls")),
            Err(client::LinkError::UnsupportedTransport("kcp".into()))
        );
    }

    #[test]
    fn a_grpc_link_gets_the_grpc_transport_and_an_xhttp_link_no_config() {
        let l = link("vless://id@h:443?type=grpc&serviceName=s.grpc&mode=gun&security=tls&sni=h");
        let c = config(&l, &Default::default());
        assert_eq!(
            c["outbounds"][0]["transport"],
            json!({"type": "grpc", "service_name": "s.grpc"})
        );
        let l = link("vless://id@h:443?type=xhttp&path=%2Fs%2Fxh&mode=auto&security=tls");
        assert_eq!(
            client_config(&l, "127.0.0.1:1".parse().unwrap(), &Default::default()),
            Err(SingBoxConfigError::TransportUnsupported("xhttp"))
        );
    }

    #[test]
    fn the_server_lists_every_user_and_the_certificate_files() {
        let c = server_config(
            "127.0.0.1:4433".parse().unwrap(),
            &["a", "b"],
            Path::new("/c.pem"),
            Path::new("/k.pem"),
        );
        let inbound = &c["inbounds"][0];
        assert_eq!(inbound["users"], json!([{"uuid": "a"}, {"uuid": "b"}]));
        assert_eq!(inbound["tls"]["certificate_path"], "/c.pem");
        assert_eq!(inbound["listen_port"], 4433);
    }
}
