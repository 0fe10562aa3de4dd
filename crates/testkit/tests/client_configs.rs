//! The client configurations testkit builds from milly's XHTTP and gRPC links are accepted by
//! the real binaries: Xray starts on each (every XHTTP mode, over TLS and REALITY), sing-box
//! checks its gRPC one, and v2ray 4.34 is shown to lack gRPC, which is why its builder refuses
//! it. No server is needed: a client dials only when a connection comes in.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use client::{ClientLink, XhttpMode};
use serde_json::Value;
use testkit::{free_tcp_addr, singbox, v2ray, xray, PeerKind};

const USER: &str = "b831381d-6324-4d53-ad4f-8cda48b30811";

/// The tail of a link as `domain::link` prints it over TLS (for a node with a certificate of
/// its own: Xray 26 refuses `allowInsecure`) and over REALITY (a REALITY link over an HTTP
/// transport carries no flow).
const TLS: &str = "security=tls&sni=localhost&fp=chrome";
const REALITY: &str = "security=reality&pbk=Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw&sid=6ba85179e30d4fc2&sni=www.example.org&fp=chrome";
const XHTTP: &str = "type=xhttp&path=%2Fs3c%2Fxh&mode=auto&host=www.example.org";
const GRPC: &str = "type=grpc&serviceName=s3c.grpc&mode=gun";

fn link(transport: &str, security: &str) -> ClientLink {
    ClientLink::parse(&format!(
        "vless://{USER}@127.0.0.1:8443?encryption=none&{transport}&{security}#n"
    ))
    .unwrap()
}

fn write(dir: &Path, config: &Value) -> std::path::PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// Runs `command` and gives back its exit status and everything it printed.
fn run(command: &mut Command) -> (std::process::ExitStatus, String) {
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status, text)
}

/// Xray runs `config` for up to three seconds: it must say it started (a bad configuration
/// ends it before that, with the reason).
fn xray_starts(bin: &Path, config: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), config);
    let (_, text) = run(Command::new("timeout")
        .arg("3")
        .arg(bin)
        .arg("run")
        .arg("-c")
        .arg(&path));
    assert!(
        text.contains("started"),
        "xray refused:\n{text}\n{config:#}"
    );
}

#[test]
fn xray_starts_on_every_xhttp_mode_over_tls_and_reality_and_on_grpc() {
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    for security in [TLS, REALITY] {
        let xhttp = link(XHTTP, security);
        let modes = [
            None,
            Some(XhttpMode::PacketUp),
            Some(XhttpMode::StreamUp),
            Some(XhttpMode::StreamOne),
        ];
        for mode in modes {
            let options = xray::ClientOptions {
                xhttp_mode: mode,
                ..Default::default()
            };
            let config = xray::client_config_with(&xhttp, free_tcp_addr(), &options);
            let want = mode.unwrap_or(XhttpMode::Auto).name();
            assert_eq!(
                config["outbounds"][0]["streamSettings"]["xhttpSettings"]["mode"],
                want
            );
            xray_starts(&bin, &config);
        }
        let grpc = link(GRPC, security);
        xray_starts(
            &bin,
            &xray::client_config(&grpc, free_tcp_addr(), &[], false),
        );
    }
    // A self-signed node's link, its certificate trusted as an operator pins it.
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = testkit::tls::write_self_signed(dir.path(), &["localhost"]).unwrap();
    let options = xray::ClientOptions {
        trusted_certificate: Some(cert),
        ..Default::default()
    };
    let insecure = link(XHTTP, &format!("{TLS}&allowInsecure=1"));
    xray_starts(
        &bin,
        &xray::client_config_with(&insecure, free_tcp_addr(), &options),
    );
}

#[test]
fn xray_refuses_an_xhttp_mode_it_does_not_know() {
    // The check above can fail: the same configuration with a made-up mode never starts.
    let Some(bin) = PeerKind::Xray.require() else {
        return;
    };
    let mut config = xray::client_config(&link(XHTTP, REALITY), free_tcp_addr(), &[], false);
    config["outbounds"][0]["streamSettings"]["xhttpSettings"]["mode"] = "stream-two".into();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &config);
    let (_, text) = run(Command::new("timeout")
        .arg("3")
        .arg(&bin)
        .arg("run")
        .arg("-c")
        .arg(&path));
    assert!(!text.contains("started"), "{text}");
}

#[test]
fn sing_box_checks_its_grpc_client() {
    let Some(bin) = PeerKind::SingBox.require() else {
        return;
    };
    // Over TLS: this sing-box build lacks uTLS, on which its REALITY client stands.
    let config =
        singbox::client_config(&link(GRPC, TLS), free_tcp_addr(), &Default::default()).unwrap();
    assert_eq!(config["outbounds"][0]["transport"]["type"], "grpc");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &config);
    let (status, text) = run(Command::new(&bin).arg("check").arg("-c").arg(&path));
    assert!(
        status.success(),
        "sing-box check failed:\n{text}\n{config:#}"
    );
}

#[test]
fn v2ray_434_knows_no_grpc_so_its_builder_refuses_grpc_links() {
    let Some(bin) = PeerKind::V2Ray.require() else {
        return;
    };
    assert_eq!(
        v2ray::client_config(&link(GRPC, TLS), free_tcp_addr(), false),
        Err(v2ray::V2RayConfigError::TransportUnsupported("grpc"))
    );
    let dir = tempfile::tempdir().unwrap();
    let tcp = v2ray::client_config(&link("type=tcp", TLS), free_tcp_addr(), false).unwrap();
    let path = write(dir.path(), &tcp);
    let (status, text) = run(Command::new(&bin).arg("-test").arg("-config").arg(&path));
    assert!(status.success(), "{text}");
    // Neither v2fly's later name for gRPC nor its first one.
    for network in ["grpc", "gun"] {
        let mut config = tcp.clone();
        config["outbounds"][0]["streamSettings"]["network"] = network.into();
        config["outbounds"][0]["streamSettings"]["grpcSettings"] =
            serde_json::json!({ "serviceName": "s3c.grpc" });
        let path = write(dir.path(), &config);
        let (status, text) = run(Command::new(&bin).arg("-test").arg("-config").arg(&path));
        assert!(!status.success(), "{network}: {text}");
        assert!(text.contains("unknown transport protocol"), "{text}");
    }
}
