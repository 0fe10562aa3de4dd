//! The sing-box profile the subscription endpoint serves passes the real `sing-box check`
//! (CI installs sing-box with .ci/install-peers).
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use domain::{Location, NodeId, NodeSecurity, NodeSpec, NodeTransport, TlsParams, VlessUuid};

fn node(id: i64, name: &str, host: &str) -> NodeSpec {
    NodeSpec {
        id: NodeId(id),
        name: name.into(),
        location: Location("EU".into()),
        public_host: host.into(),
        port: 8443,
        security: NodeSecurity::Tls(TlsParams {
            server_name: host.into(),
            allow_insecure: true,
            transports: Vec::new(),
        }),
        exits_via: None,
    }
}

fn check(profile: &serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    std::fs::write(&path, profile.to_string()).unwrap();
    let output = Command::new("sing-box")
        .arg("check")
        .arg("-c")
        .arg(&path)
        .output()
        .expect("sing-box must be installed (bash .ci/install-peers)");
    assert!(
        output.status.success(),
        "sing-box check failed: {}\n{profile:#}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_profile_with_several_tls_nodes_passes_sing_box_check() {
    let uuid = VlessUuid::generate();
    let mut entry = node(4, "ru-1", "198.51.100.7");
    entry.location = Location("🇷🇺 Moscow".into());
    entry.exits_via = Some(Location("🇩🇪 Frankfurt".into()));
    let nodes = [
        node(1, "milly EU", "vpn.example.com"),
        node(2, "milly EU", "127.0.0.1"),
        node(3, "milly v6", "::1"),
        entry,
    ];
    check(&web::subscription::sing_box(&nodes, &uuid));
}

#[test]
fn a_profile_with_ws_and_httpupgrade_passes_sing_box_check() {
    let mut n = node(1, "milly EU", "vpn.example.com");
    if let NodeSecurity::Tls(tls) = &mut n.security {
        tls.transports = vec![
            NodeTransport::Tcp,
            NodeTransport::Ws {
                path: "/s3c/ws".into(),
            },
            NodeTransport::Httpupgrade {
                path: "/s3c/up".into(),
            },
        ];
    }
    check(&web::subscription::sing_box(&[n], &VlessUuid::generate()));
}

#[test]
fn a_profile_with_grpc_passes_sing_box_check() {
    // Over TLS: the PyPI build of sing-box installed here lacks uTLS, which its REALITY needs
    // (the REALITY gRPC outbound differs only in `tls`, checked by the profile's unit tests).
    let mut n = node(1, "milly EU", "vpn.example.com");
    if let NodeSecurity::Tls(params) = &mut n.security {
        params.transports = vec![
            NodeTransport::Tcp,
            // In the node's list, not in the profile: sing-box has no XHTTP.
            NodeTransport::Xhttp {
                path: "/s3c/xh".into(),
            },
            NodeTransport::Grpc {
                service_name: "s3c.grpc".into(),
            },
        ];
    }
    let profile = web::subscription::sing_box(&[n], &VlessUuid::generate());
    let transports: Vec<&serde_json::Value> = profile["outbounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.get("transport"))
        .collect();
    assert_eq!(
        transports,
        [&serde_json::json!({ "type": "grpc", "service_name": "s3c.grpc" })],
        "{profile:#}"
    );
    check(&profile);
}

#[test]
fn the_empty_profile_of_an_expired_user_passes_sing_box_check() {
    check(&web::subscription::sing_box(&[], &VlessUuid::generate()));
}
