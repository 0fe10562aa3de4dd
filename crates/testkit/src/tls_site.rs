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
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", &format!("/CN={name}"), "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
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
            .args(["s_server", "-www", "-tls1_3", "-accept"])
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
