//! Hostile load (issue #13): the real `milly serve` under a low descriptor limit while a trial
//! user floods the node with Mux.Cool `New` frames (thousands on one connection, and two
//! connections reusing session ids towards a listener that never accepts), and one address
//! holds a thousand half-open TLS handshakes. Meanwhile the website's `/healthz` answers and
//! another user's VLESS connection carries bytes; once the attackers leave, the process's
//! descriptor count comes back to where it started.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use testkit::milly::SERVE_TIMEOUT;
use testkit::{probe, wait_admitted, EchoMode, MillyHome, Process, TcpEcho};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;
use vless::mux::{encode_frame, Frame, Network, Status, Target};
use vless::{Address, Command as VlessCommand, Destination, Flow, Request, UserKey};

/// The descriptor limit `milly serve` runs under (soft and hard).
const FD_LIMIT: u32 = 2048;
/// Mux sessions the first attacker opens on one connection, each with its own id.
const FLOOD_SESSIONS: usize = 3_000;
/// `New` frames each of the two reusing connections sends, cycling through few ids.
const REUSE_FRAMES: usize = 15_000;
const REUSED_IDS: usize = 100;
/// Half-open TLS handshakes held from one address.
const HALF_OPEN: usize = 1_000;
/// The attackers connect from here, the victim from elsewhere on loopback.
const ATTACKER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const VICTIM_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// What a healthy answer may take while the node is under attack.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// Descriptors the process may keep above its starting count once the attackers are gone.
const SETTLED_MARGIN: usize = 64;
const SETTLE_DEADLINE: Duration = Duration::from_secs(40);

/// `milly serve` started through `sh` with `ulimit -n`, so its hard limit is [`FD_LIMIT`] too.
async fn serve_limited(home: &MillyHome) -> Process {
    let inner = home.command(&["serve"]);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -n {FD_LIMIT} && exec \"$0\" \"$@\""))
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(home.dir());
    for (key, value) in inner.get_envs() {
        if value.is_none() {
            cmd.env_remove(key);
        }
    }
    let mut process = Process::start("milly-serve", cmd, home.dir()).unwrap();
    process
        .wait_for_tcp(home.node_addr(), SERVE_TIMEOUT)
        .await
        .unwrap();
    process
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn tcp_from(source: Ipv4Addr, to: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    socket.connect(to).await
}

async fn tls_from(
    source: Ipv4Addr,
    node: SocketAddr,
    server_name: &str,
) -> io::Result<TlsStream<TcpStream>> {
    let tcp = tcp_from(source, node).await?;
    let config = Arc::new(testkit::tls::insecure_client_config().unwrap());
    let name = ServerName::try_from(server_name.to_owned()).unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

/// A VLESS Mux request followed by `frames` `New` frames towards `target`, session ids
/// cycling through `1..=ids`.
fn mux_flood(user: [u8; 16], target: SocketAddrV4, frames: usize, ids: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let request = Request {
        user: UserKey(user),
        flow: Flow::None,
        command: VlessCommand::Mux,
        destination: None,
    };
    vless::encode_request(&request, &mut out);
    for i in 0..frames {
        let frame = Frame {
            session_id: u16::try_from(i % ids + 1).unwrap(),
            status: Status::New {
                target: Target {
                    network: Network::Tcp,
                    destination: Destination {
                        address: Address::Ipv4(*target.ip()),
                        port: target.port(),
                    },
                },
                global_id: None,
            },
            error: false,
            data: None,
        };
        encode_frame(&frame, &mut out).unwrap();
    }
    out
}

/// Sends `bytes` on a TLS connection from the attacker and keeps it open, draining whatever
/// the node answers, until `stop`.
async fn attack(node: SocketAddr, name: String, bytes: Vec<u8>, stop: CancellationToken) {
    let Ok(tls) = tls_from(ATTACKER_IP, node, &name).await else {
        return;
    };
    let (mut read, mut write) = tokio::io::split(tls);
    let drain = async {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = read.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        std::future::pending::<()>().await;
    };
    let send = async {
        let _ = write.write_all(&bytes).await;
        let _ = write.flush().await;
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = drain => {}
        _ = send => {}
    }
}

/// The start of a TLS ClientHello: a handshake record that promises more than it brings.
const PARTIAL_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
];

/// Opens up to `count` connections from the attacker's address, each with a partial
/// ClientHello, and holds them until `stop`. Counts the ones that got through.
async fn half_open(
    node: SocketAddr,
    count: usize,
    opened: Arc<AtomicUsize>,
    stop: CancellationToken,
) {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        if stop.is_cancelled() {
            break;
        }
        let connect = tokio::time::timeout(Duration::from_millis(500), tcp_from(ATTACKER_IP, node));
        if let Ok(Ok(mut tcp)) = connect.await {
            if tcp.write_all(PARTIAL_HELLO).await.is_ok() {
                opened.fetch_add(1, Ordering::Relaxed);
                held.push(tcp);
            }
        }
    }
    stop.cancelled().await;
}

/// How long `GET /healthz` took, if it answered 200 within [`ANSWER_WITHIN`].
async fn healthz(web: SocketAddr) -> Option<Duration> {
    let start = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let answer = probe::tcp(web, request, ANSWER_WITHIN).await.ok()?;
    let ok = probe::status_line(&answer).is_some_and(|l| l.contains(" 200 "));
    (ok && start.elapsed() < ANSWER_WITHIN).then(|| start.elapsed())
}

/// Whether the victim's VLESS TCP connection, from another address, carries bytes to the echo.
async fn victim_carries(node: SocketAddr, name: &str, user: &[u8; 16], echo: SocketAddrV4) -> bool {
    const PING: &[u8] = b"still here";
    let run = async {
        let mut tls = tls_from(VICTIM_IP, node, name).await?;
        let mut request = probe::vless_tcp_request(user, echo);
        request.extend_from_slice(PING);
        tls.write_all(&request).await?;
        tls.flush().await?;
        let mut answer = [0u8; 2 + PING.len()];
        tls.read_exact(&mut answer).await?;
        Ok::<_, io::Error>(answer[..2] == [0, 0] && &answer[2..] == PING)
    };
    matches!(tokio::time::timeout(ANSWER_WITHIN, run).await, Ok(Ok(true)))
}

/// `milly_node_budget_refusals_total` per reason, from `/admin/metrics`.
async fn budget_refusals(home: &MillyHome) -> Vec<(String, u64)> {
    let token = home.admin_token().unwrap();
    let request = format!(
        "GET /admin/metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    );
    let answer = probe::tcp(home.web_addr(), request.as_bytes(), ANSWER_WITHIN)
        .await
        .unwrap();
    probe::body(&answer)
        .lines()
        .filter_map(|l| l.strip_prefix("milly_node_budget_refusals_total{reason=\""))
        .filter_map(|l| {
            let (reason, rest) = l.split_once("\"} ")?;
            Some((reason.to_owned(), rest.trim().parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flooding_user_and_a_half_open_flood_leave_the_website_and_other_users_working() {
    let home = MillyHome::new("").unwrap();
    let serve = serve_limited(&home).await;
    let pid = serve.id();
    let node = home.node_addr();
    let attacker_link = home.add_user(9_100_000_001, 1).unwrap();
    let victim_link = home.add_user(9_100_000_002, 30).unwrap();
    for link in [&attacker_link, &victim_link] {
        wait_admitted(node, link, Duration::from_secs(10))
            .await
            .unwrap();
    }
    let attacker = attacker_link.user_id;
    let victim = victim_link.user_id;
    let name = victim_link.server_name.clone();
    let echo = TcpEcho::start(EchoMode::Stream).await.unwrap();
    let SocketAddr::V4(echo_addr) = echo.addr() else {
        panic!("the echo listens on IPv4")
    };
    assert!(victim_carries(node, &name, &victim, echo_addr).await);

    // A listener that never accepts: its backlog fills and further connects hang.
    let black_hole = TcpSocket::new_v4().unwrap();
    black_hole.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let black_hole = black_hole.listen(1).unwrap();
    let SocketAddr::V4(hole) = black_hole.local_addr().unwrap() else {
        panic!("bound on IPv4")
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fds_before = fd_count(pid);

    let stop = CancellationToken::new();
    let peak = Arc::new(AtomicUsize::new(fds_before));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                peak.fetch_max(fd_count(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut attackers = vec![tokio::spawn(attack(
        node,
        name.clone(),
        mux_flood(attacker, hole, FLOOD_SESSIONS, FLOOD_SESSIONS),
        stop.clone(),
    ))];
    for _ in 0..2 {
        let frames = mux_flood(attacker, hole, REUSE_FRAMES, REUSED_IDS);
        attackers.push(tokio::spawn(attack(
            node,
            name.clone(),
            frames,
            stop.clone(),
        )));
    }
    let opened = Arc::new(AtomicUsize::new(0));
    attackers.push(tokio::spawn(half_open(
        node,
        HALF_OPEN,
        opened.clone(),
        stop.clone(),
    )));

    // While the attack runs, look three times at the website and the other user.
    let mut health = Vec::new();
    let mut carried = Vec::new();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        health.push(healthz(home.web_addr()).await);
        carried.push(victim_carries(node, &name, &victim, echo_addr).await);
    }
    let peak_during = peak.load(Ordering::Relaxed);
    stop.cancel();
    for a in attackers {
        let _ = a.await;
    }
    let _ = sampler.await;

    let settle_start = Instant::now();
    let mut fds_after = fd_count(pid);
    while fds_after > fds_before + SETTLED_MARGIN && settle_start.elapsed() < SETTLE_DEADLINE {
        tokio::time::sleep(Duration::from_millis(250)).await;
        fds_after = fd_count(pid);
    }
    let refusals = budget_refusals(&home).await;
    let log = serve.log();
    let accept_failures = log.matches("accept failed").count();
    println!(
        "descriptor limit {FD_LIMIT}: {fds_before} before, peak {peak_during}, {fds_after} after \
         {:?}; half-open attempts sent {}; /healthz {health:?}; victim carried {carried:?}; \
         `accept failed` logged {accept_failures} times; refusals {refusals:?}",
        settle_start.elapsed(),
        opened.load(Ordering::Relaxed),
    );
    drop(black_hole);

    assert!(
        log.contains(&format!("descriptors: limit {FD_LIMIT};")),
        "serve sized its caps from the limit:\n{log}"
    );
    assert!(
        health.iter().all(Option::is_some),
        "/healthz failed: {health:?}"
    );
    assert!(
        carried.iter().all(|c| *c),
        "the other user was cut off: {carried:?}"
    );
    assert!(
        peak_during + SETTLED_MARGIN < FD_LIMIT as usize,
        "descriptors ran out: peak {peak_during} of {FD_LIMIT}"
    );
    assert_eq!(
        accept_failures, 0,
        "the node ran out of descriptors:\n{log}"
    );
    // The attacks met their budgets: the user's sockets and one address's handshakes. (Whether
    // the reused ids meet a live session or the exhausted budget first depends on which
    // connection the node reads first; the node's scenarios prove each refusal on its own.)
    for reason in ["subscriber_sockets", "source_handshakes"] {
        let count = refusals.iter().find(|(r, _)| r == reason).map(|(_, n)| *n);
        assert!(count.unwrap_or(0) > 0, "no {reason} refusals: {refusals:?}");
    }
    assert!(
        fds_after <= fds_before + SETTLED_MARGIN,
        "descriptors stayed in use: {fds_before} before, {fds_after} after"
    );
}
