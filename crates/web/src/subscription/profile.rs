//! The three things apps import: a base64 list of `vless://` links, a sing-box JSON profile and
//! a Clash Meta (mihomo) YAML profile, each built from the nodes and the user's id.

use base64::Engine;
use domain::{
    link_entries, share_links, LinkEntry, NodeSecurity, NodeSpec, NodeTransport, VlessUuid,
    EARLY_DATA,
};
use serde_json::{json, Value};

use crate::subscription::yaml;

/// The selector every profile routes through, named after the service.
const SELECTOR_TAG: &str = "proxy";

/// Base64 (standard, padded) of the `vless://` links, one a line: what v2rayNG and friends
/// expect. No nodes gives an empty body, which apps show as an empty list.
pub fn base64_links(nodes: &[NodeSpec], uuid: &VlessUuid) -> String {
    let links = share_links(nodes, uuid);
    if links.is_empty() {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(links.join("\n"))
}

/// One outbound per (node, transport), named as the links are (`domain::link_entries`): the
/// node's location (an entry's with its exit's, an HTTP transport's with its kind), with
/// ` (2)` etc. on repeats. XHTTP is left out: neither sing-box nor Clash Meta speaks it (its
/// users import the links).
fn entries(nodes: &[NodeSpec]) -> Vec<LinkEntry> {
    link_entries(nodes)
        .into_iter()
        .filter(|e| !matches!(e.transport, NodeTransport::Xhttp { .. }))
        .collect()
}

/// A sing-box profile for the phone and desktop apps: a TUN inbound, one VLESS outbound per node
/// behind a selector, DNS through the tunnel, private addresses direct.
pub fn sing_box(nodes: &[NodeSpec], uuid: &VlessUuid) -> Value {
    let entries = entries(nodes);
    let names: Vec<&String> = entries.iter().map(|e| &e.name).collect();
    let mut outbounds: Vec<Value> = Vec::new();
    let mut choices: Vec<Value> = names.iter().map(|n| json!(n)).collect();
    choices.push(json!("direct"));
    outbounds.push(json!({
        "type": "selector",
        "tag": SELECTOR_TAG,
        "outbounds": choices,
        "default": names.first().map_or("direct", |n| n.as_str()),
    }));
    for entry in &entries {
        outbounds.push(sing_box_vless(entry, uuid));
    }
    outbounds.push(json!({ "type": "direct", "tag": "direct" }));
    json!({
        "log": { "level": "warn" },
        "dns": {
            "servers": [
                { "type": "tls", "tag": "dns-remote", "server": "1.1.1.1", "detour": SELECTOR_TAG },
                { "type": "local", "tag": "dns-local" },
            ],
            "final": "dns-remote",
        },
        "inbounds": [{
            "type": "tun",
            "tag": "tun-in",
            "address": ["172.19.0.1/30", "fdfe:dcba:9876::1/126"],
            "auto_route": true,
            "strict_route": true,
        }],
        "outbounds": outbounds,
        "route": {
            "rules": [
                { "action": "sniff" },
                { "protocol": "dns", "action": "hijack-dns" },
                { "ip_is_private": true, "outbound": "direct" },
            ],
            "final": SELECTOR_TAG,
            "auto_detect_interface": true,
            "default_domain_resolver": "dns-local",
        },
    })
}

fn sing_box_vless(entry: &LinkEntry, uuid: &VlessUuid) -> Value {
    let (node, tag) = (&entry.node, entry.name.as_str());
    let mut outbound = json!({
        "type": "vless",
        "tag": tag,
        "server": node.public_host,
        "server_port": node.port,
        "uuid": uuid.to_string(),
        "packet_encoding": "xudp",
    });
    let server_name = match &node.security {
        NodeSecurity::Tls(tls) => &tls.server_name,
        NodeSecurity::Reality(r) => &r.server_name,
    };
    match &entry.transport {
        NodeTransport::Tcp => {}
        NodeTransport::Ws { path } => {
            outbound["transport"] = json!({
                "type": "ws",
                "path": path,
                "headers": { "Host": server_name },
                "max_early_data": EARLY_DATA,
                "early_data_header_name": "Sec-WebSocket-Protocol",
            });
        }
        NodeTransport::Httpupgrade { path } => {
            outbound["transport"] = json!({
                "type": "httpupgrade",
                "path": path,
                "host": server_name,
            });
        }
        NodeTransport::Grpc { service_name } => {
            outbound["transport"] = json!({ "type": "grpc", "service_name": service_name });
        }
        // Left out by `entries`: sing-box has no XHTTP.
        NodeTransport::Xhttp { .. } => {}
    }
    outbound["tls"] = match &node.security {
        NodeSecurity::Tls(tls) => {
            json!({
                "enabled": true,
                "server_name": tls.server_name,
                "insecure": tls.allow_insecure,
            })
        }
        NodeSecurity::Reality(r) => {
            // Vision is for raw TCP only.
            if entry.transport == NodeTransport::Tcp {
                outbound["flow"] = json!("xtls-rprx-vision");
            }
            json!({
                "enabled": true,
                "server_name": r.server_name,
                // sing-box's REALITY client only exists on top of uTLS.
                "utls": { "enabled": true, "fingerprint": "chrome" },
                "reality": { "enabled": true, "public_key": r.public_key, "short_id": r.short_id },
            })
        }
    };
    outbound
}

/// A Clash Meta (mihomo) profile: a mixed proxy port, one VLESS proxy per node in a selector,
/// private networks direct. No GEOIP rules, so the app downloads no databases.
pub fn clash(nodes: &[NodeSpec], uuid: &VlessUuid, group: &str) -> String {
    let entries = entries(nodes);
    let proxies: Vec<Value> = entries.iter().map(|e| clash_vless(e, uuid)).collect();
    let mut choices: Vec<Value> = entries.iter().map(|e| json!(e.name)).collect();
    choices.push(json!("DIRECT"));
    let mut rules: Vec<Value> = [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
    ]
    .iter()
    .map(|net| json!(format!("IP-CIDR,{net},DIRECT,no-resolve")))
    .collect();
    rules.push(json!("IP-CIDR6,fc00::/7,DIRECT,no-resolve"));
    rules.push(json!(format!("MATCH,{group}")));
    let profile = json!({
        "mixed-port": 7890,
        "allow-lan": false,
        "mode": "rule",
        "log-level": "warning",
        "ipv6": true,
        "proxies": proxies,
        "proxy-groups": [{ "name": group, "type": "select", "proxies": choices }],
        "rules": rules,
    });
    yaml::to_string(&profile)
}

fn clash_vless(entry: &LinkEntry, uuid: &VlessUuid) -> Value {
    let (node, name) = (&entry.node, entry.name.as_str());
    let mut proxy = json!({
        "name": name,
        "type": "vless",
        "server": node.public_host,
        "port": node.port,
        "uuid": uuid.to_string(),
        "network": "tcp",
        "tls": true,
        "udp": true,
        "packet-encoding": "xudp",
        "client-fingerprint": "chrome",
    });
    let server_name = match &node.security {
        NodeSecurity::Tls(tls) => &tls.server_name,
        NodeSecurity::Reality(r) => &r.server_name,
    };
    // mihomo's spelling: early data as Xray sends it, HTTPUpgrade as a WebSocket option, and
    // gRPC's service name in `grpc-opts`.
    let headers = json!({ "Host": server_name });
    match &entry.transport {
        NodeTransport::Tcp => {}
        NodeTransport::Ws { path } => {
            proxy["network"] = json!("ws");
            proxy["ws-opts"] = json!({
                "path": path,
                "headers": headers,
                "max-early-data": EARLY_DATA,
                "early-data-header-name": "Sec-WebSocket-Protocol",
            });
        }
        NodeTransport::Httpupgrade { path } => {
            proxy["network"] = json!("ws");
            proxy["ws-opts"] = json!({
                "path": path,
                "headers": headers,
                "v2ray-http-upgrade": true,
            });
        }
        NodeTransport::Grpc { service_name } => {
            proxy["network"] = json!("grpc");
            proxy["grpc-opts"] = json!({ "grpc-service-name": service_name });
        }
        // Left out by `entries`: Clash Meta profiles carry no XHTTP.
        NodeTransport::Xhttp { .. } => {}
    }
    proxy["servername"] = json!(server_name);
    match &node.security {
        NodeSecurity::Tls(tls) => {
            proxy["skip-cert-verify"] = json!(tls.allow_insecure);
        }
        NodeSecurity::Reality(r) => {
            // Vision is for raw TCP only.
            if entry.transport == NodeTransport::Tcp {
                proxy["flow"] = json!("xtls-rprx-vision");
            }
            proxy["reality-opts"] = json!({ "public-key": r.public_key, "short-id": r.short_id });
        }
    }
    proxy
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{share_link, Location, NodeId, RealityParams, TlsParams};

    fn uuid() -> VlessUuid {
        "b831381d-6324-4d53-ad4f-8cda48b30811".parse().unwrap()
    }

    /// A node whose location (what apps show) is `location`.
    fn tls_node(id: i64, location: &str) -> NodeSpec {
        NodeSpec {
            id: NodeId(id),
            name: format!("node-{id}"),
            location: Location(location.into()),
            public_host: "vpn.example.com".into(),
            port: 443,
            security: NodeSecurity::Tls(TlsParams {
                server_name: "vpn.example.com".into(),
                allow_insecure: true,
                transports: Vec::new(),
            }),
            exits_via: None,
        }
    }

    fn reality_node() -> NodeSpec {
        NodeSpec {
            security: NodeSecurity::Reality(RealityParams {
                public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
                short_id: "6ba85179e30d4fc2".into(),
                server_name: "www.example.org".into(),
                mldsa65_verify: None,
                transports: Vec::new(),
            }),
            ..tls_node(2, "milly RU")
        }
    }

    #[test]
    fn the_base64_list_decodes_to_one_share_link_per_node() {
        let nodes = [tls_node(1, "milly EU"), reality_node()];
        let body = base64_links(&nodes, &uuid());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let text = String::from_utf8(decoded).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], share_link(&nodes[0], &uuid()).unwrap());
        assert_eq!(lines[1], share_link(&nodes[1], &uuid()).unwrap());
    }

    #[test]
    fn no_nodes_make_an_empty_list() {
        assert_eq!(base64_links(&[], &uuid()), "");
    }

    #[test]
    fn repeated_node_names_are_made_unique() {
        let nodes = [tls_node(1, "milly"), tls_node(2, "milly"), tls_node(3, " ")];
        let names: Vec<String> = entries(&nodes).into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["milly", "milly (2)", "node-3"]);
    }

    #[test]
    fn ws_and_httpupgrade_are_outbounds_of_their_own_in_each_apps_syntax() {
        let mut node = tls_node(1, "EU");
        if let NodeSecurity::Tls(tls) = &mut node.security {
            tls.transports = vec![
                NodeTransport::Tcp,
                NodeTransport::Ws {
                    path: "/s/ws".into(),
                },
                NodeTransport::Httpupgrade {
                    path: "/s/up".into(),
                },
            ];
        }
        let p = sing_box(std::slice::from_ref(&node), &uuid());
        let outbounds = p["outbounds"].as_array().unwrap();
        assert_eq!(
            outbounds[0]["outbounds"],
            json!(["EU", "EU · WS", "EU · HTTPUpgrade", "direct"])
        );
        assert!(outbounds[1].get("transport").is_none());
        assert_eq!(outbounds[2]["transport"]["type"], "ws");
        assert_eq!(outbounds[2]["transport"]["path"], "/s/ws");
        assert_eq!(outbounds[2]["transport"]["max_early_data"], 2048);
        assert_eq!(
            outbounds[2]["transport"]["early_data_header_name"],
            "Sec-WebSocket-Protocol"
        );
        assert_eq!(outbounds[3]["transport"]["type"], "httpupgrade");
        let yaml = clash(&[node], &uuid(), "milly");
        assert!(yaml.contains("\"network\": \"ws\""), "{yaml}");
        assert!(yaml.contains("\"v2ray-http-upgrade\": true"), "{yaml}");
        assert!(yaml.contains("\"max-early-data\": 2048"), "{yaml}");
    }

    #[test]
    fn the_sing_box_profile_selects_among_the_nodes_and_routes_through_the_selector() {
        let p = sing_box(&[tls_node(1, "milly EU"), reality_node()], &uuid());
        let outbounds = p["outbounds"].as_array().unwrap();
        assert_eq!(outbounds[0]["type"], "selector");
        assert_eq!(
            outbounds[0]["outbounds"],
            json!(["milly EU", "milly RU", "direct"])
        );
        assert_eq!(outbounds[0]["default"], "milly EU");
        assert_eq!(outbounds[1]["uuid"], "b831381d-6324-4d53-ad4f-8cda48b30811");
        assert_eq!(outbounds[1]["tls"]["insecure"], true);
        assert!(outbounds[1]["tls"].get("utls").is_none());
        assert_eq!(outbounds[2]["flow"], "xtls-rprx-vision");
        assert_eq!(
            outbounds[2]["tls"]["reality"]["short_id"],
            "6ba85179e30d4fc2"
        );
        assert_eq!(p["route"]["final"], "proxy");
    }

    #[test]
    fn an_empty_sing_box_profile_still_has_a_valid_selector() {
        let p = sing_box(&[], &uuid());
        assert_eq!(p["outbounds"][0]["outbounds"], json!(["direct"]));
        assert_eq!(p["outbounds"][0]["default"], "direct");
    }

    #[test]
    fn the_clash_profile_parses_as_yaml_with_the_fields_mihomo_needs() {
        let text = clash(
            &[tls_node(1, "milly: EU #1"), reality_node()],
            &uuid(),
            "milly",
        );
        let parsed: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        let proxies = parsed["proxies"].as_array().unwrap();
        assert_eq!(proxies.len(), 2);
        for p in proxies {
            for field in [
                "name",
                "type",
                "server",
                "port",
                "uuid",
                "network",
                "tls",
                "servername",
            ] {
                assert!(p.get(field).is_some(), "{field} missing");
            }
        }
        assert_eq!(proxies[0]["name"], "milly: EU #1");
        assert_eq!(proxies[0]["port"], 443);
        assert_eq!(
            proxies[1]["reality-opts"]["public-key"],
            "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw"
        );
        assert_eq!(
            parsed["proxy-groups"][0]["proxies"],
            json!(["milly: EU #1", "milly RU", "DIRECT"])
        );
        assert_eq!(
            parsed["rules"].as_array().unwrap().last().unwrap(),
            "MATCH,milly"
        );
    }

    #[test]
    fn grpc_is_in_every_profile_and_xhttp_only_in_the_links() {
        let mut node = reality_node();
        if let NodeSecurity::Reality(r) = &mut node.security {
            r.transports = vec![
                NodeTransport::Xhttp {
                    path: "/s/xh".into(),
                },
                NodeTransport::Tcp,
                NodeTransport::Grpc {
                    service_name: "s.grpc".into(),
                },
            ];
        }
        let nodes = [node];
        let links = base64::engine::general_purpose::STANDARD
            .decode(base64_links(&nodes, &uuid()))
            .unwrap();
        let links = String::from_utf8(links).unwrap();
        assert_eq!(links.lines().count(), 3);
        assert!(
            links.contains("type=xhttp&path=%2Fs%2Fxh&mode=auto"),
            "{links}"
        );

        let p = sing_box(&nodes, &uuid());
        let outbounds = p["outbounds"].as_array().unwrap();
        assert_eq!(
            outbounds[0]["outbounds"],
            json!(["milly RU", "milly RU · gRPC", "direct"])
        );
        assert_eq!(outbounds[1]["flow"], "xtls-rprx-vision");
        assert_eq!(
            outbounds[2]["transport"],
            json!({ "type": "grpc", "service_name": "s.grpc" })
        );
        assert!(outbounds[2].get("flow").is_none());
        assert_eq!(outbounds[2]["tls"]["reality"]["enabled"], true);

        let parsed: Value = serde_yaml::from_str(&clash(&nodes, &uuid(), "milly")).unwrap();
        let proxies = parsed["proxies"].as_array().unwrap();
        assert_eq!(proxies.len(), 2);
        assert_eq!(proxies[1]["name"], "milly RU · gRPC");
        assert_eq!(proxies[1]["network"], "grpc");
        assert_eq!(proxies[1]["grpc-opts"]["grpc-service-name"], "s.grpc");
        assert!(proxies[1].get("flow").is_none());
        assert_eq!(proxies[0]["flow"], "xtls-rprx-vision");
    }
}
