//! The whole REALITY flow over loopback sockets with a real `dest` (`openssl s_server`):
//! a small blocking node drives the `Acceptor` the way the real node will. Our client gets
//! our handshake shaped by OpenSSL's answer; `openssl s_client` (not a REALITY client) is
//! relayed and sees `dest`'s own certificate and page.

#![allow(clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use reality::{ClientHandshake, Next, Received, SystemRng};

mod support;

use support::{acceptor, client_config};

const POLL: Duration = Duration::from_millis(5);

/// `openssl s_server -www` with a throwaway P-256 certificate for www.example.com.
struct Dest {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Dest {
    fn start() -> Option<Dest> {
        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
            ])
            .args(["-subj", "/CN=www.example.com", "-days", "2", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status();
        if !made.is_ok_and(|s| s.success()) {
            assert!(std::env::var_os("CI").is_none(), "openssl is not installed");
            eprintln!("openssl is not installed; skipping");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-www",
                "-tls1_3",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
            ])
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "s_server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Dest {
            child,
            addr,
            _dir: dir,
        })
    }
}

impl Drop for Dest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads what is there within `POLL`; `None` at end of stream.
fn poll_read(sock: &mut TcpStream, buf: &mut [u8]) -> Option<usize> {
    match sock.read(buf) {
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Some(0),
        Err(e) => panic!("read: {e}"),
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        from.set_read_timeout(None).unwrap();
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    })
}

/// What the node did with one connection.
#[derive(Debug, PartialEq)]
enum Outcome {
    Relayed,
    Served,
}

/// One connection through a minimal blocking node: mirror, decide, then relay or serve an
/// echo over our record layer.
fn node_once(listener: &TcpListener, dest_addr: SocketAddr) -> Outcome {
    let (mut client, _) = listener.accept().unwrap();
    let mut dest = TcpStream::connect(dest_addr).unwrap();
    client.set_read_timeout(Some(POLL)).unwrap();
    dest.set_read_timeout(Some(POLL)).unwrap();
    let mut acceptor = acceptor(None);
    let mut buf = vec![0; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    let next = loop {
        assert!(Instant::now() < deadline, "no decision");
        let n = poll_read(&mut client, &mut buf).expect("client left before a decision");
        if n > 0 {
            if acceptor.is_mirroring() {
                dest.write_all(&buf[..n]).unwrap();
            }
            match acceptor.client_bytes(&buf[..n], &mut SystemRng) {
                Next::Continue => {}
                decided => break decided,
            }
        }
        let n = poll_read(&mut dest, &mut buf).expect("dest left before a decision");
        if n > 0 {
            match acceptor.dest_bytes(&buf[..n], &mut SystemRng) {
                Next::Continue => {}
                decided => break decided,
            }
        }
    };
    match next {
        Next::Continue => unreachable!(),
        Next::Relay {
            to_client, to_dest, ..
        } => {
            client.write_all(&to_client).unwrap();
            dest.write_all(&to_dest).unwrap();
            let up = pipe(client.try_clone().unwrap(), dest.try_clone().unwrap());
            let down = pipe(dest, client);
            up.join().unwrap();
            down.join().unwrap();
            Outcome::Relayed
        }
        Next::Accept {
            mut handshake,
            client_pending,
            ..
        } => {
            drop(dest);
            client.write_all(&handshake.poll_output()).unwrap();
            let mut done = handshake.feed(&client_pending).unwrap();
            while !done {
                let n = poll_read(&mut client, &mut buf).expect("client left mid-handshake");
                done = handshake.feed(&buf[..n]).unwrap();
            }
            let mut layer = handshake.into_record_layer().unwrap();
            let mut plain = Vec::new();
            loop {
                match layer.read(&mut plain).unwrap() {
                    Received::Closed => break,
                    Received::Data(_) | Received::Other => {
                        let mut wire = Vec::new();
                        layer.write(&plain, &mut wire).unwrap();
                        client.write_all(&wire).unwrap();
                        plain.clear();
                    }
                    Received::NeedMore => match poll_read(&mut client, &mut buf) {
                        Some(n) => layer.feed(&buf[..n]),
                        None => break,
                    },
                }
            }
            Outcome::Served
        }
    }
}

fn reality_client(node: SocketAddr, message: &[u8]) -> Vec<u8> {
    let mut sock = TcpStream::connect(node).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut hs = ClientHandshake::new(&client_config(), SystemTime::now(), &mut SystemRng).unwrap();
    sock.write_all(&hs.poll_output()).unwrap();
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = sock.read(&mut buf).unwrap();
        assert!(n > 0, "node closed during the handshake");
        if hs.feed(&buf[..n]).unwrap() {
            break;
        }
    }
    sock.write_all(&hs.poll_output()).unwrap();
    let mut layer = hs.into_record_layer().unwrap();
    let mut wire = Vec::new();
    layer.write(message, &mut wire).unwrap();
    sock.write_all(&wire).unwrap();
    let mut got = Vec::new();
    while got.len() < message.len() {
        match layer.read(&mut got).unwrap() {
            Received::NeedMore => {
                let n = sock.read(&mut buf).unwrap();
                assert!(n > 0, "node closed before echoing");
                layer.feed(&buf[..n]);
            }
            Received::Closed => break,
            _ => {}
        }
    }
    let mut wire = Vec::new();
    layer.write_close_notify(&mut wire).unwrap();
    sock.write_all(&wire).unwrap();
    got
}

#[test]
fn our_client_is_served_with_a_handshake_shaped_like_openssls() {
    let Some(dest) = Dest::start() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let node_addr = listener.local_addr().unwrap();
    let node = std::thread::spawn(move || node_once(&listener, dest.addr));
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 199) as u8).collect();
    assert_eq!(reality_client(node_addr, &message), message);
    assert_eq!(node.join().unwrap(), Outcome::Served);
}

#[test]
fn openssl_s_client_is_relayed_and_sees_dests_certificate_and_page() {
    let Some(dest) = Dest::start() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let node_addr = listener.local_addr().unwrap();
    let dest_addr = dest.addr;
    let node = std::thread::spawn(move || node_once(&listener, dest_addr));
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-ign_eof",
            "-tls1_3",
            "-servername",
            "www.example.com",
        ])
        .args(["-connect", &node_addr.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("subject=CN = www.example.com"), "{text}");
    assert!(text.contains("s_server"), "dest's page: {text}");
    assert_eq!(node.join().unwrap(), Outcome::Relayed);
    drop(dest);
}
