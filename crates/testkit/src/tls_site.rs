//! A real TLS 1.3 website on loopback (`openssl s_server -www -tls1_3` with a throwaway
//! certificate), playing REALITY's `dest`: whoever the node relays there must see its
//! certificate and page. Stopped when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TlsSite {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl TlsSite {
    /// Starts the site with a certificate for `name` and waits until it accepts connections.
    /// Panics (it is test setup) when openssl is missing or the site does not come up.
    pub fn start(name: &str) -> TlsSite {
        TlsSite::start_with_names(name, 0, &["-tls1_3"])
    }

    /// [`TlsSite::start`] with a certificate of about 5 KB (many subject alternative names),
    /// the size of a real site's chain. Xray's REALITY server pads its flight to `dest`'s
    /// record lengths and fails when its own records are longer, which its 3.5 KB
    /// certificate with an ML-DSA-65 signature (`mldsa65Seed`) is next to a small one.
    pub fn start_with_large_certificate(name: &str) -> TlsSite {
        TlsSite::start_with_names(name, 200, &["-tls1_3"])
    }

    /// [`TlsSite::start_with_large_certificate`] with other `openssl s_server` protocol
    /// options instead of `-tls1_3`: a `dest` that is wrong in one way, e.g. `-tls1_2` (no
    /// TLS 1.3) or `-tls1_3 -groups P-256` (no X25519).
    pub fn start_large_with(name: &str, server_options: &[&str]) -> TlsSite {
        TlsSite::start_with_names(name, 200, server_options)
    }

    fn start_with_names(name: &str, extra_names: usize, server_options: &[&str]) -> TlsSite {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
        let mut req = Command::new("openssl");
        req.args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", &format!("/CN={name}"), "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert);
        if extra_names > 0 {
            let names: Vec<String> = (0..extra_names)
                .map(|i| format!("DNS:host-{i}.{name}"))
                .collect();
            req.arg("-addext")
                .arg(format!("subjectAltName=DNS:{name},{}", names.join(",")));
        }
        let made = req
            .stderr(Stdio::null())
            .status()
            .expect("this test needs openssl");
        assert!(made.success(), "openssl could not make a certificate");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new("openssl")
            .args(["s_server", "-www"])
            .args(server_options)
            .arg("-accept")
            .arg(addr.to_string())
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts");
        let start = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "s_server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsSite {
            child,
            addr,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsSite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_client -tls1_3 -servername <server_name>` to `addr` asking for `/`, as a person
/// probing a site would: everything it printed (the certificate's subject, then the page).
/// Panics (it is a test's probe) when openssl cannot run.
pub async fn fetch_page(addr: SocketAddr, server_name: &str) -> String {
    let server_name = server_name.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new("openssl")
            .args([
                "s_client",
                "-ign_eof",
                "-tls1_3",
                "-servername",
                &server_name,
            ])
            .args(["-connect", &addr.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("this test needs openssl");
        if let Some(mut stdin) = child.stdin.take() {
            // A site that already closed is the caller's finding, not an error here.
            let _ = stdin.write_all(b"GET / HTTP/1.0\r\n\r\n");
        }
        child.wait_with_output().expect("openssl s_client runs")
    })
    .await
    .expect("the s_client task");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
