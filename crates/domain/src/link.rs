//! `vless://` share links in the form v2rayNG, Hiddify, Streisand and sing-box import as is.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::{NodeSecurity, NodeSpec, NodeTransport, VlessUuid};

/// Everything but RFC 3986 unreserved characters is escaped in query values and the fragment.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShareLinkError {
    #[error("the node has no public host")]
    NoHost,
}

/// Early data WebSocket clients are told to send in their upgrade (`ed=` in the path).
pub const EARLY_DATA: u32 = 2048;
/// XHTTP's `mode=` in links: the client's choice, since the node serves every mode.
pub const XHTTP_MODE: &str = "auto";
/// gRPC's `mode=` in links: one bidirectional stream per connection, Xray's "gun".
pub const GRPC_MODE: &str = "gun";

/// One thing an app lists: a node over one of its transports, with a name unique in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEntry {
    pub node: NodeSpec,
    pub transport: NodeTransport,
    pub name: String,
}

/// `vless://UUID@host:port?params#name` for the node's first transport, named by the node's
/// [`NodeSpec::label`]; REALITY links over plain TCP carry the Vision flow.
pub fn share_link(node: &NodeSpec, user: &VlessUuid) -> Result<String, ShareLinkError> {
    let transport = node.transports().swap_remove(0);
    named_link(node, &transport, user, &node.label())
}

/// One link per (node with a public host, transport), in the given (the operator's) order,
/// each named as [`link_entries`] names it, so no two in a list share a name.
pub fn share_links(nodes: &[NodeSpec], user: &VlessUuid) -> Vec<String> {
    link_entries(nodes)
        .iter()
        .filter_map(|e| named_link(&e.node, &e.transport, user, &e.name).ok())
        .collect()
}

/// Every (node with a public host, transport) an app should list, named by the node's label,
/// an HTTP transport's with its kind (`EU · WS`), and ` (2)` etc. on repeats.
pub fn link_entries(nodes: &[NodeSpec]) -> Vec<LinkEntry> {
    let mut entries: Vec<LinkEntry> = Vec::new();
    for node in nodes.iter().filter(|n| !n.public_host.is_empty()) {
        for transport in node.transports() {
            let base = match transport {
                NodeTransport::Tcp => node.label(),
                NodeTransport::Ws { .. } => format!("{} · WS", node.label()),
                NodeTransport::Httpupgrade { .. } => format!("{} · HTTPUpgrade", node.label()),
                NodeTransport::Xhttp { .. } => format!("{} · XHTTP", node.label()),
                NodeTransport::Grpc { .. } => format!("{} · gRPC", node.label()),
            };
            let mut name = base.clone();
            let mut n = 2;
            while entries.iter().any(|e| e.name == name) {
                name = format!("{base} ({n})");
                n += 1;
            }
            entries.push(LinkEntry {
                node: node.clone(),
                transport,
                name,
            });
        }
    }
    entries
}

/// Unique, readable names for a list of nodes: each node's label, with ` (2)` etc. on repeats.
pub fn link_names<'a>(nodes: impl IntoIterator<Item = &'a NodeSpec>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for node in nodes {
        let base = node.label();
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        names.push(name);
    }
    names
}

fn named_link(
    node: &NodeSpec,
    transport: &NodeTransport,
    user: &VlessUuid,
    name: &str,
) -> Result<String, ShareLinkError> {
    if node.public_host.is_empty() {
        return Err(ShareLinkError::NoHost);
    }
    let host = if node.public_host.contains(':') && !node.public_host.starts_with('[') {
        format!("[{}]", node.public_host)
    } else {
        node.public_host.clone()
    };
    let enc = |s: &str| utf8_percent_encode(s, COMPONENT).to_string();
    let mut params: Vec<(&str, String)> = vec![
        ("encryption", "none".into()),
        ("type", transport.link_type().into()),
    ];
    let server_name = match &node.security {
        NodeSecurity::Tls(tls) => &tls.server_name,
        NodeSecurity::Reality(r) => &r.server_name,
    };
    // As v2rayNG and Xray's share links spell them: the path percent-encoded (WebSocket's
    // early data as `?ed=` inside it) and the Host header; XHTTP's mode (`auto`: the node takes
    // every mode, the client picks); gRPC's service name and its "gun" mode.
    match transport {
        NodeTransport::Tcp => {}
        NodeTransport::Ws { path } => {
            params.push(("path", enc(&format!("{path}?ed={EARLY_DATA}"))));
            params.push(("host", enc(server_name)));
        }
        NodeTransport::Httpupgrade { path } => {
            params.push(("path", enc(path)));
            params.push(("host", enc(server_name)));
        }
        NodeTransport::Xhttp { path } => {
            params.push(("path", enc(path)));
            params.push(("mode", XHTTP_MODE.into()));
            params.push(("host", enc(server_name)));
        }
        NodeTransport::Grpc { service_name } => {
            params.push(("serviceName", enc(service_name)));
            params.push(("mode", GRPC_MODE.into()));
        }
    }
    match &node.security {
        NodeSecurity::Tls(tls) => {
            params.push(("security", "tls".into()));
            params.push(("sni", enc(&tls.server_name)));
            params.push(("fp", "chrome".into()));
            if tls.allow_insecure {
                params.push(("allowInsecure", "1".into()));
            }
        }
        NodeSecurity::Reality(r) => {
            params.push(("security", "reality".into()));
            params.push(("pbk", enc(&r.public_key)));
            params.push(("sid", enc(&r.short_id)));
            if let Some(pqv) = &r.mldsa65_verify {
                params.push(("pqv", enc(pqv)));
            }
            params.push(("sni", enc(&r.server_name)));
            params.push(("fp", "chrome".into()));
            // Vision pads raw TCP; Xray refuses it over any other transport.
            if *transport == NodeTransport::Tcp {
                params.push(("flow", "xtls-rprx-vision".into()));
            }
        }
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(format!(
        "vless://{user}@{host}:{port}?{query}#{name}",
        port = node.port,
        query = query.join("&"),
        name = enc(name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, NodeId, RealityParams, TlsParams};

    fn node(security: NodeSecurity) -> NodeSpec {
        NodeSpec {
            id: NodeId(1),
            name: "milly EU #1".into(),
            location: Location("EU".into()),
            public_host: "vpn.example.com".into(),
            port: 443,
            security,
            exits_via: None,
        }
    }

    /// The share link of a REALITY node, with `pqv` when the node signs with ML-DSA-65.
    fn reality_link(mldsa65_verify: Option<&str>) -> String {
        let uuid: VlessUuid = "b831381d-6324-4d53-ad4f-8cda48b30811".parse().unwrap();
        let security = NodeSecurity::Reality(RealityParams {
            public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
            short_id: "6ba85179e30d4fc2".into(),
            server_name: "www.example.org".into(),
            mldsa65_verify: mldsa65_verify.map(str::to_owned),
            transports: Vec::new(),
        });
        share_link(&node(security), &uuid).unwrap()
    }

    #[test]
    fn tls_links_name_the_sni_and_say_when_the_certificate_is_self_signed() {
        let uuid: VlessUuid = "b831381d-6324-4d53-ad4f-8cda48b30811".parse().unwrap();
        let link = share_link(
            &node(NodeSecurity::Tls(TlsParams {
                server_name: "vpn.example.com".into(),
                allow_insecure: true,
                transports: Vec::new(),
            })),
            &uuid,
        )
        .unwrap();
        assert_eq!(
            link,
            "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=tcp&security=tls&sni=vpn.example.com&fp=chrome&allowInsecure=1#EU"
        );
    }

    #[test]
    fn reality_links_carry_key_short_id_and_vision_flow() {
        let link = reality_link(None);
        assert!(link.contains("security=reality&pbk=Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw&sid=6ba85179e30d4fc2&sni=www.example.org&fp=chrome&flow=xtls-rprx-vision"));
        assert!(!link.contains("pqv="));
    }

    #[test]
    fn reality_links_carry_the_mldsa65_public_key_as_pqv() {
        let link = reality_link(Some("Ab-_"));
        assert!(link.contains("&sid=6ba85179e30d4fc2&pqv=Ab-_&sni=www.example.org&"));
    }

    #[test]
    fn links_are_named_by_location_and_an_entry_says_where_it_exits() {
        let uuid = VlessUuid::generate();
        let tls = NodeSecurity::Tls(TlsParams {
            server_name: "x".into(),
            allow_insecure: false,
            transports: Vec::new(),
        });
        let mut frankfurt = node(tls);
        frankfurt.location = Location("🇩🇪 Frankfurt".into());
        let moscow = NodeSpec {
            id: NodeId(2),
            name: "ru-1".into(),
            location: Location("🇷🇺 Moscow".into()),
            exits_via: Some(frankfurt.location.clone()),
            ..frankfurt.clone()
        };
        assert_eq!(moscow.label(), "🇷🇺 Moscow → 🇩🇪 Frankfurt");
        let unnamed = NodeSpec {
            id: NodeId(3),
            name: "de-2".into(),
            location: Location(" ".into()),
            ..frankfurt.clone()
        };
        assert_eq!(unnamed.label(), "de-2");
        let hostless = NodeSpec {
            public_host: String::new(),
            ..frankfurt.clone()
        };
        let nodes = [
            frankfurt.clone(),
            moscow,
            frankfurt.clone(),
            hostless,
            unnamed,
        ];
        assert_eq!(
            link_names(&nodes),
            [
                "🇩🇪 Frankfurt",
                "🇷🇺 Moscow → 🇩🇪 Frankfurt",
                "🇩🇪 Frankfurt (2)",
                "🇩🇪 Frankfurt (3)",
                "de-2"
            ]
        );
        let links = share_links(&nodes, &uuid);
        let fragments: Vec<&str> = links
            .iter()
            .map(|l| l.rsplit_once('#').unwrap().1)
            .collect();
        assert_eq!(
            fragments,
            [
                "%F0%9F%87%A9%F0%9F%87%AA%20Frankfurt",
                "%F0%9F%87%B7%F0%9F%87%BA%20Moscow%20%E2%86%92%20%F0%9F%87%A9%F0%9F%87%AA%20Frankfurt",
                "%F0%9F%87%A9%F0%9F%87%AA%20Frankfurt%20%282%29",
                "de-2"
            ]
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let mut n = node(NodeSecurity::Tls(TlsParams {
            server_name: "x".into(),
            allow_insecure: false,
            transports: Vec::new(),
        }));
        n.public_host = "::1".into();
        let uuid = VlessUuid::generate();
        assert!(share_link(&n, &uuid).unwrap().contains("@[::1]:443?"));
    }

    #[test]
    fn a_tls_node_with_transports_has_one_link_each_in_v2rayngs_syntax() {
        let uuid: VlessUuid = "b831381d-6324-4d53-ad4f-8cda48b30811".parse().unwrap();
        let n = node(NodeSecurity::Tls(TlsParams {
            server_name: "vpn.example.com".into(),
            allow_insecure: false,
            transports: vec![
                NodeTransport::Tcp,
                NodeTransport::Ws {
                    path: "/s3c/ws".into(),
                },
                NodeTransport::Httpupgrade {
                    path: "/s3c/up".into(),
                },
            ],
        }));
        let links = share_links(&[n], &uuid);
        assert_eq!(links.len(), 3);
        assert!(links[0].contains("&type=tcp&security=tls&"));
        assert_eq!(
            links[1],
            "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=ws&path=%2Fs3c%2Fws%3Fed%3D2048&host=vpn.example.com&security=tls&sni=vpn.example.com&fp=chrome#EU%20%C2%B7%20WS"
        );
        assert!(links[2]
            .contains("&type=httpupgrade&path=%2Fs3c%2Fup&host=vpn.example.com&security=tls&"));
        assert!(links[2].ends_with("#EU%20%C2%B7%20HTTPUpgrade"));
    }

    #[test]
    fn xhttp_and_grpc_links_over_tls_in_v2rayngs_syntax() {
        let uuid: VlessUuid = "b831381d-6324-4d53-ad4f-8cda48b30811".parse().unwrap();
        let n = node(NodeSecurity::Tls(TlsParams {
            server_name: "vpn.example.com".into(),
            allow_insecure: false,
            transports: vec![
                NodeTransport::Xhttp {
                    path: "/s3c/xh".into(),
                },
                NodeTransport::Grpc {
                    service_name: "s3c.grpc".into(),
                },
            ],
        }));
        let links = share_links(&[n], &uuid);
        assert_eq!(
            links,
            [
                "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=xhttp&path=%2Fs3c%2Fxh&mode=auto&host=vpn.example.com&security=tls&sni=vpn.example.com&fp=chrome#EU%20%C2%B7%20XHTTP",
                "vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=grpc&serviceName=s3c.grpc&mode=gun&security=tls&sni=vpn.example.com&fp=chrome#EU%20%C2%B7%20gRPC",
            ]
        );
    }

    #[test]
    fn over_reality_only_the_tcp_link_carries_vision() {
        let uuid: VlessUuid = "b831381d-6324-4d53-ad4f-8cda48b30811".parse().unwrap();
        let n = node(NodeSecurity::Reality(RealityParams {
            public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
            short_id: "6ba85179e30d4fc2".into(),
            server_name: "www.example.org".into(),
            mldsa65_verify: None,
            transports: vec![
                NodeTransport::Xhttp {
                    path: "/s3c/xh".into(),
                },
                NodeTransport::Tcp,
                NodeTransport::Grpc {
                    service_name: "s3c.grpc".into(),
                },
            ],
        }));
        let entries = link_entries(std::slice::from_ref(&n));
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["EU · XHTTP", "EU", "EU · gRPC"]);
        let links = share_links(&[n], &uuid);
        let reality = "security=reality&pbk=Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw&sid=6ba85179e30d4fc2&sni=www.example.org&fp=chrome";
        assert_eq!(
            links[0],
            format!("vless://b831381d-6324-4d53-ad4f-8cda48b30811@vpn.example.com:443?encryption=none&type=xhttp&path=%2Fs3c%2Fxh&mode=auto&host=www.example.org&{reality}#EU%20%C2%B7%20XHTTP")
        );
        assert!(links[1].contains(&format!("&type=tcp&{reality}&flow=xtls-rprx-vision#EU")));
        assert!(links[2].contains(&format!(
            "&type=grpc&serviceName=s3c.grpc&mode=gun&{reality}#"
        )));
        assert!(!links[0].contains("flow=") && !links[2].contains("flow="));
    }
}
