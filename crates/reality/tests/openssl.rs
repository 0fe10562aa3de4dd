//! OpenSSL as a second, independent TLS 1.3 implementation: `openssl x509` parses the
//! REALITY certificate, and `openssl s_client` completes a handshake with the server engine
//! over loopback and exchanges data both ways, in every suite.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use reality::{ClientHello, Parse, RealityCert, Received, SystemRng};

mod support;

use support::answer;

fn openssl_present() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "openssl is not installed");
        eprintln!("openssl is not installed; skipping");
    }
    found
}

#[test]
fn openssl_parses_the_reality_certificate_as_an_ed25519_certificate() {
    if !openssl_present() {
        return;
    }
    let der = RealityCert::generate(&mut SystemRng).for_client(&[1; 32]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cert.der");
    std::fs::write(&path, der).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ED25519"), "{text}");
    assert!(text.contains("Serial Number: 0"), "{text}");
}

fn serve_one(listener: TcpListener) -> Vec<u8> {
    let (mut sock, _) = listener.accept().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = vec![0; 32 * 1024];
    let mut input = Vec::new();
    let hello = loop {
        let n = sock.read(&mut buf).unwrap();
        assert!(n > 0, "client closed before its hello");
        input.extend_from_slice(&buf[..n]);
        if let Parse::Done { value, consumed } = ClientHello::read(&input).unwrap() {
            input.drain(..consumed);
            break value;
        }
    };
    let mut server = answer(&hello, &[9; 32]);
    sock.write_all(&server.poll_output()).unwrap();
    let mut done = server.feed(&input).unwrap();
    while !done {
        let n = sock.read(&mut buf).unwrap();
        assert!(n > 0, "client closed during the handshake");
        done = server.feed(&buf[..n]).unwrap();
    }
    let mut layer = server.into_record_layer().unwrap();
    let mut wire = Vec::new();
    layer.write(b"pong from the engine\n", &mut wire).unwrap();
    sock.write_all(&wire).unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"\n") {
        match layer.read(&mut got).unwrap() {
            Received::Data(_) | Received::Other => continue,
            Received::Closed => break,
            Received::NeedMore => {
                let n = sock.read(&mut buf).unwrap();
                assert!(n > 0, "client closed before sending data");
                layer.feed(&buf[..n]);
            }
        }
    }
    let mut wire = Vec::new();
    layer.write_close_notify(&mut wire).unwrap();
    sock.write_all(&wire).unwrap();
    got
}

#[test]
fn openssl_s_client_talks_to_the_server_engine_in_every_suite() {
    if !openssl_present() {
        return;
    }
    for suite in [
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || serve_one(listener));
        let mut child = Command::new("openssl")
            .args([
                "s_client",
                "-quiet",
                "-tls1_3",
                "-servername",
                "www.example.com",
                "-ciphersuites",
                suite,
            ])
            .args(["-connect", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // s_client reads stdin once the handshake is done.
        stdin.write_all(b"ping from openssl\n").unwrap();
        let got = server.join().unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(got, b"ping from openssl\n", "{suite}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("pong from the engine"),
            "{suite}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
