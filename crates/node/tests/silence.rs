//! The node's output at the most verbose level, while it proxies, falls back and refuses, never
//! names a client address, a destination or a user id.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

#[path = "scenarios/harness.rs"]
#[allow(dead_code)] // this test uses only part of the harness
mod harness;

use std::io::Write;
use std::sync::{Arc, Mutex};

use harness::{expect_response, read_all, user, Options, TestNode};
use testkit::{EchoMode, TcpEcho};
use tokio::io::AsyncWriteExt;
use vless::Command;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_the_node_prints_describes_a_connection() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let node = TestNode::start(Options::default()).await;
    let echo_server = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let echo = echo_server.addr();
    let mut proxied = node.vless(user(1), Command::Tcp, echo, b"hello").await;
    expect_response(&mut proxied).await;
    proxied.shutdown().await.unwrap();
    assert_eq!(read_all(&mut proxied).await, b"hello");
    let client_port = proxied.get_ref().0.local_addr().unwrap().port();

    let mut stranger = node.vless(user(9), Command::Tcp, echo, b"probe").await;
    let _ = read_all(&mut stranger).await;
    let website = node.website.addr;
    node.stop().await;

    let strict = TestNode::start(Options {
        allow_private: false,
        ..Options::default()
    })
    .await;
    let mut refused = strict.vless(user(1), Command::Tcp, echo, b"x").await;
    assert_eq!(read_all(&mut refused).await, b"");
    strict.stop().await;

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("VLESS node listening"), "the capture works");
    let hex = |id: [u8; 16]| id.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for secret in [
        echo.to_string(),
        format!(":{}", echo.port()),
        format!(":{client_port}"),
        website.to_string(),
        hex(user(1)),
        hex(user(9)),
    ] {
        assert!(!output.contains(&secret), "the output mentions {secret}");
    }
}
