//! Xray-core configurations (JSON): a client built from a share link, the way v2rayNG and
//! other Xray-based apps import it, and a VLESS+REALITY+Vision server, the reference REALITY
//! node that milly's own client and the benchmark are checked against.

use std::net::SocketAddr;
use std::path::PathBuf;

use client::{ClientLink, LinkTransport, Security, XhttpMode, VISION_FLOW};
use serde_json::{json, Value};

use crate::{user_uuid, v2ray};

/// Choices an Xray-based app makes that the link does not carry.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Port forwards through the node, `(listen, target)`, as dokodemo-door inbounds.
    pub forwards: Vec<(SocketAddr, SocketAddr)>,
    /// VLESS in the clear whatever the link says (see [`crate::singbox::ClientOptions`]).
    pub security_none: bool,
    /// XHTTP's mode instead of the link's (`auto`), so a test can run each mode.
    pub xhttp_mode: Option<XhttpMode>,
    /// Over TLS, verify the node's certificate against this PEM file (as an operator pins a
    /// self-signed one) instead of the link's `allowInsecure`, which Xray 26 refuses.
    pub trusted_certificate: Option<PathBuf>,
}

/// A client with a SOCKS5 inbound on `socks` (UDP enabled, answering on the same address),
/// a port forward per `forwards` entry `(listen, target)`, and one VLESS outbound to the link's
/// node. Xray carries UDP under Vision as XUDP (Mux.Cool), on its own. `security_none` sends
/// VLESS in the clear whatever the link says (see [`crate::singbox::ClientOptions`]).
pub fn client_config(
    link: &ClientLink,
    socks: SocketAddr,
    forwards: &[(SocketAddr, SocketAddr)],
    security_none: bool,
) -> Value {
    client_config_with(
        link,
        socks,
        &ClientOptions {
            forwards: forwards.to_vec(),
            security_none,
            ..ClientOptions::default()
        },
    )
}

/// [`client_config`] with every option: the link's transport (ws, httpupgrade, xhttp, grpc)
/// as v2rayNG imports it, over TLS or REALITY.
pub fn client_config_with(link: &ClientLink, socks: SocketAddr, options: &ClientOptions) -> Value {
    let mut user = json!({ "id": user_uuid(link), "encryption": "none" });
    if link.vision {
        user["flow"] = json!(VISION_FLOW);
    }
    let fingerprint = link.fingerprint.as_deref().unwrap_or("chrome");
    let mut stream = match &link.security {
        _ if options.security_none => {
            return document(
                link,
                socks,
                &options.forwards,
                user,
                json!({ "network": "tcp", "security": "none" }),
            )
        }
        Security::Tls { allow_insecure } => {
            let mut stream = v2ray::tls_stream(link, *allow_insecure);
            let tls = &mut stream["tlsSettings"];
            tls["fingerprint"] = json!(fingerprint);
            if let Some(cert) = &options.trusted_certificate {
                tls["allowInsecure"] = json!(false);
                tls["certificates"] = json!([{ "usage": "verify", "certificateFile": cert }]);
            }
            stream
        }
        Security::Reality {
            public_key,
            short_id,
            mldsa65_verify,
        } => {
            let mut settings = json!({
                "serverName": link.server_name,
                "fingerprint": fingerprint,
                "publicKey": public_key,
                "shortId": short_id,
                "spiderX": "/",
            });
            if let Some(pqv) = mldsa65_verify {
                settings["mldsa65Verify"] = json!(pqv);
            }
            json!({ "network": "tcp", "security": "reality", "realitySettings": settings })
        }
    };
    let (network, key, settings) = match &link.transport {
        LinkTransport::Tcp => return document(link, socks, &options.forwards, user, stream),
        // Xray reads `ed` out of the path itself, as when v2rayNG imports the link.
        LinkTransport::Ws {
            path,
            host,
            early_data,
        } => {
            let path = match early_data {
                0 => path.clone(),
                n => format!("{path}?ed={n}"),
            };
            ("ws", "wsSettings", with_host(json!({ "path": path }), host))
        }
        LinkTransport::HttpUpgrade { path, host } => (
            "httpupgrade",
            "httpupgradeSettings",
            with_host(json!({ "path": path }), host),
        ),
        LinkTransport::Xhttp { path, host, mode } => {
            let mode = options.xhttp_mode.unwrap_or(*mode);
            let settings = json!({ "path": path, "mode": mode.name() });
            ("xhttp", "xhttpSettings", with_host(settings, host))
        }
        LinkTransport::Grpc { service_name } => (
            "grpc",
            "grpcSettings",
            json!({ "serviceName": service_name }),
        ),
    };
    stream["network"] = json!(network);
    stream[key] = settings;
    document(link, socks, &options.forwards, user, stream)
}

/// `settings` with `"host"` when the link names one.
fn with_host(mut settings: Value, host: &Option<String>) -> Value {
    if let Some(host) = host {
        settings["host"] = json!(host);
    }
    settings
}

/// The client document: the SOCKS inbound, the forwards, and the VLESS outbound as `user`
/// over `stream`.
fn document(
    link: &ClientLink,
    socks: SocketAddr,
    forwards: &[(SocketAddr, SocketAddr)],
    user: Value,
    stream: Value,
) -> Value {
    let mut inbounds = vec![v2ray::socks_inbound(socks)];
    for (i, (listen, target)) in forwards.iter().enumerate() {
        inbounds.push(json!({
            "tag": format!("forward-{i}"),
            "listen": listen.ip().to_string(),
            "port": listen.port(),
            "protocol": "dokodemo-door",
            "settings": {
                "address": target.ip().to_string(),
                "port": target.port(),
                "network": "tcp",
            },
        }));
    }
    v2ray::client_document(inbounds, v2ray::vless_outbound(link, user, stream))
}

/// What an Xray REALITY server needs beyond its users.
#[derive(Debug, Clone)]
pub struct RealityServer {
    pub listen: SocketAddr,
    /// The real TLS 1.3 site strangers are relayed to.
    pub dest: SocketAddr,
    pub server_names: Vec<String>,
    /// base64url x25519 private key, as `milly keygen reality` and `xray x25519` print it.
    pub private_key: String,
    pub short_ids: Vec<String>,
    /// base64url ML-DSA-65 seed (`mldsa65Seed`), as `milly keygen reality` prints it.
    pub mldsa65_seed: Option<String>,
}

/// A VLESS server with REALITY and the Vision flow for `user_ids`, relaying directly (loopback
/// destinations included).
pub fn reality_server_config(server: &RealityServer, user_ids: &[&str]) -> Value {
    let clients: Vec<Value> = user_ids
        .iter()
        .map(|id| json!({ "id": id, "flow": "xtls-rprx-vision" }))
        .collect();
    let mut reality = json!({
        "dest": server.dest.to_string(),
        "serverNames": server.server_names,
        "privateKey": server.private_key,
        "shortIds": server.short_ids,
    });
    if let Some(seed) = &server.mldsa65_seed {
        reality["mldsa65Seed"] = json!(seed);
    }
    json!({
        "log": { "loglevel": "warning" },
        "inbounds": [{
            "tag": "vless-in",
            "listen": server.listen.ip().to_string(),
            "port": server.listen.port(),
            "protocol": "vless",
            "settings": { "clients": clients, "decryption": "none" },
            "streamSettings": {
                "network": "tcp",
                "security": "reality",
                "realitySettings": reality,
            },
        }],
        // Recent Xray blocks private destinations by default; the tests' echo servers are on
        // loopback.
        "outbounds": [{
            "tag": "direct",
            "protocol": "freedom",
            "settings": {
                "finalRules": [{ "action": "allow", "ip": ["127.0.0.0/8", "::1/128"] }],
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "b831381d-6324-4d53-ad4f-8cda48b30811";

    fn link(s: &str) -> ClientLink {
        ClientLink::parse(&s.replace("vless://id@", &format!("vless://{ID}@"))).unwrap()
    }

    fn socks() -> SocketAddr {
        "127.0.0.1:1081".parse().unwrap()
    }

    #[test]
    fn a_reality_link_becomes_a_reality_outbound_with_the_vision_flow() {
        let l = link("vless://b831381d-6324-4d53-ad4f-8cda48b30811@127.0.0.1:443?encryption=none&type=tcp&security=reality&pbk=KEY&sid=ab&sni=www.example.org&fp=chrome&flow=xtls-rprx-vision#n");
        let c = client_config(&l, socks(), &[], false);
        let out = &c["outbounds"][0];
        assert_eq!(
            out["settings"]["vnext"][0]["users"][0],
            json!({"id": "b831381d-6324-4d53-ad4f-8cda48b30811", "encryption": "none", "flow": "xtls-rprx-vision"})
        );
        assert_eq!(
            out["streamSettings"]["realitySettings"],
            json!({"serverName": "www.example.org", "fingerprint": "chrome", "publicKey": "KEY",
                   "shortId": "ab", "spiderX": "/"})
        );
        assert_eq!(c["inbounds"][0]["settings"]["udp"], true);
    }

    #[test]
    fn forwards_become_dokodemo_door_inbounds() {
        let forward = (
            "127.0.0.1:5202".parse().unwrap(),
            "127.0.0.1:5201".parse().unwrap(),
        );
        let c = client_config(
            &link("vless://id@h:443?security=tls"),
            socks(),
            &[forward],
            false,
        );
        assert_eq!(c["inbounds"][1]["protocol"], "dokodemo-door");
        assert_eq!(c["inbounds"][1]["port"], 5202);
        assert_eq!(c["inbounds"][1]["settings"]["port"], 5201);
        assert_eq!(
            c["outbounds"][0]["streamSettings"]["tlsSettings"]["serverName"],
            "h"
        );
    }

    #[test]
    fn security_none_sends_vless_in_the_clear_and_other_transports_never_reach_a_config() {
        let c = client_config(&link("vless://id@h:80?security=tls"), socks(), &[], true);
        assert_eq!(
            c["outbounds"][0]["streamSettings"],
            json!({"network": "tcp", "security": "none"})
        );
        // Only links milly prints are parsed: type=tcp, ws, httpupgrade, xhttp or grpc.
        assert_eq!(
            ClientLink::parse(&format!("vless://{ID}@h:80?type=kcp&security=tls")),
            Err(client::LinkError::UnsupportedTransport("kcp".into()))
        );
    }

    #[test]
    fn the_reality_server_names_dest_keys_and_vision_users() {
        let server = RealityServer {
            listen: "127.0.0.1:8443".parse().unwrap(),
            dest: "127.0.0.1:9443".parse().unwrap(),
            server_names: vec!["www.example.com".into()],
            private_key: "PRIV".into(),
            short_ids: vec!["ab".into()],
            mldsa65_seed: None,
        };
        let c = reality_server_config(&server, &["a"]);
        let inbound = &c["inbounds"][0];
        assert_eq!(inbound["port"], 8443);
        assert_eq!(
            inbound["settings"]["clients"],
            json!([{"id": "a", "flow": "xtls-rprx-vision"}])
        );
        let reality = &inbound["streamSettings"]["realitySettings"];
        assert_eq!(reality["dest"], "127.0.0.1:9443");
        assert_eq!(reality["privateKey"], "PRIV");
        assert!(reality.get("mldsa65Seed").is_none());
        let c = reality_server_config(
            &RealityServer {
                mldsa65_seed: Some("SEED".into()),
                ..server
            },
            &["a"],
        );
        assert_eq!(
            c["inbounds"][0]["streamSettings"]["realitySettings"]["mldsa65Seed"],
            "SEED"
        );
    }

    #[test]
    fn a_link_with_pqv_sets_mldsa65_verify() {
        let l = link("vless://b831381d-6324-4d53-ad4f-8cda48b30811@127.0.0.1:443?security=reality&pbk=KEY&sid=ab&pqv=PQ&sni=www.example.org");
        let c = client_config(&l, socks(), &[], false);
        let reality = &c["outbounds"][0]["streamSettings"]["realitySettings"];
        assert_eq!(reality["mldsa65Verify"], "PQ");
        let l = link("vless://b831381d-6324-4d53-ad4f-8cda48b30811@127.0.0.1:443?security=reality&pbk=KEY&sid=ab");
        let c = client_config(&l, socks(), &[], false);
        assert!(c["outbounds"][0]["streamSettings"]["realitySettings"]
            .get("mldsa65Verify")
            .is_none());
    }

    #[test]
    fn xhttp_links_become_xhttp_settings_over_tls_and_reality_and_a_mode_may_be_forced() {
        let l = link("vless://id@h:443?type=xhttp&path=%2Fs%2Fxh&mode=auto&host=www.example.org&security=reality&pbk=KEY&sid=ab&sni=www.example.org");
        let c = client_config(&l, socks(), &[], false);
        let stream = &c["outbounds"][0]["streamSettings"];
        assert_eq!(stream["network"], "xhttp");
        assert_eq!(stream["security"], "reality");
        assert_eq!(
            stream["xhttpSettings"],
            json!({"path": "/s/xh", "host": "www.example.org", "mode": "auto"})
        );
        assert!(c["outbounds"][0]["settings"]["vnext"][0]["users"][0]
            .get("flow")
            .is_none());
        let forced = ClientOptions {
            xhttp_mode: Some(XhttpMode::StreamUp),
            ..ClientOptions::default()
        };
        let c = client_config_with(&l, socks(), &forced);
        assert_eq!(
            c["outbounds"][0]["streamSettings"]["xhttpSettings"]["mode"],
            "stream-up"
        );
        let l =
            link("vless://id@h:443?type=xhttp&path=%2Fs%2Fxh&mode=packet-up&security=tls&sni=h&allowInsecure=1");
        let trusting = ClientOptions {
            trusted_certificate: Some("/data/node-cert.pem".into()),
            ..ClientOptions::default()
        };
        let c = client_config_with(&l, socks(), &trusting);
        let stream = &c["outbounds"][0]["streamSettings"];
        assert_eq!(stream["tlsSettings"]["allowInsecure"], false);
        assert_eq!(
            stream["tlsSettings"]["certificates"],
            json!([{"usage": "verify", "certificateFile": "/data/node-cert.pem"}])
        );
        assert_eq!(
            (&stream["network"], &stream["security"]),
            (&json!("xhttp"), &json!("tls"))
        );
        assert_eq!(
            stream["xhttpSettings"],
            json!({"path": "/s/xh", "mode": "packet-up"})
        );
    }

    #[test]
    fn grpc_links_become_grpc_settings() {
        let l = link("vless://id@h:443?type=grpc&serviceName=s.grpc&mode=gun&security=tls&sni=h");
        let stream = &client_config(&l, socks(), &[], false)["outbounds"][0]["streamSettings"];
        assert_eq!(stream["network"], "grpc");
        assert_eq!(stream["grpcSettings"], json!({"serviceName": "s.grpc"}));
        assert_eq!(stream["tlsSettings"]["serverName"], "h");
    }
}
