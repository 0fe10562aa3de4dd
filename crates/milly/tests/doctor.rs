//! `milly doctor` on a deployment whose every part is real and local: the Bot API and YooKassa
//! emulators, an openssl TLS 1.3 site as REALITY's `dest`, and an HTTPS site (our CA) as the
//! public URL YooKassa's webhook reaches. The good deployment passes; each test then breaks
//! exactly one thing and sees exactly that check fail, named, with a non-zero exit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use testkit::free_tcp_addr;
use testkit::milly::cli::Run;
use testkit::tls_site::TlsSite;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BOT_TOKEN: &str = "123456:AAdoctorGoodToken0123456789abcdefgh";
const SHOP: &str = "100500";
const SHOP_KEY: &str = "test_secret";
const DEST_NAME: &str = "dest.test";

/// Everything a deployment talks to, and a config for it in a temp dir.
struct Deployment {
    dir: tempfile::TempDir,
    tg: tg_emulator::Emulator,
    yk: yookassa_emulator::Emulator,
    dest: TlsSite,
    site: HttpsSite,
    web: SocketAddr,
    node: SocketAddr,
    private_key: String,
    recipient: String,
}

impl Deployment {
    /// The good deployment, with one backup already written (as `milly serve` would have).
    async fn start() -> Deployment {
        Deployment::with_site(Duration::ZERO).await
    }

    /// The public site's `Date` is `skew` behind the real time.
    async fn with_site(skew: Duration) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        let private_key =
            reality::encode_key(&reality::generate_private_key(&mut reality::SystemRng));
        let (_identity, recipient) = app::backup::new_key_pair();
        let d = Deployment {
            tg: tg_emulator::Emulator::start(BOT_TOKEN).await.unwrap(),
            yk: yookassa_emulator::Emulator::start(SHOP, SHOP_KEY)
                .await
                .unwrap(),
            dest: TlsSite::start_with_large_certificate(DEST_NAME),
            site: HttpsSite::start(dir.path(), skew).await,
            web: free_tcp_addr(),
            node: free_tcp_addr(),
            dir,
            private_key,
            recipient,
        };
        d.write(&d.config());
        let out = run(d.command(&["backup", "create"])).await;
        assert_eq!(out.status, 0, "backup create: {out:?}");
        d
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("milly.toml")
    }

    fn config(&self) -> toml::Table {
        let text = format!(
            r#"
[service]
public_url = "https://localhost:{site}/"
data_dir = "{data}"

[web]
listen = "{web}"

[node]
listen = "{node}"
public_host = "127.0.0.1"
security = "reality"

[node.reality]
private_key = "{key}"
short_ids = ["0123abcd"]
server_names = ["{DEST_NAME}"]
dest = "{dest}"

[telegram]
token = "{BOT_TOKEN}"
api_url = "{tg}"

[yookassa]
enabled = true
shop_id = "{SHOP}"
secret_key = "{SHOP_KEY}"
api_url = "{yk}"

[backup]
recipients = ["{recipient}"]
"#,
            site = self.site.addr.port(),
            data = self.data_dir().display(),
            web = self.web,
            node = self.node,
            key = self.private_key,
            dest = self.dest.addr(),
            tg = self.tg.api_url(),
            yk = self.yk.url(),
            recipient = self.recipient,
        );
        text.parse().unwrap()
    }

    /// The good config with `key` (`section.key`) set to `value`.
    fn config_with(&self, key: &str, value: impl Into<toml::Value>) -> toml::Table {
        let mut config = self.config();
        let (section, name) = key.rsplit_once('.').unwrap();
        let mut table = &mut config;
        for part in section.split('.') {
            table = table
                .entry(part)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap();
        }
        table.insert(name.to_owned(), value.into());
        config
    }

    fn write(&self, config: &toml::Table) {
        std::fs::write(self.config_path(), toml::to_string(config).unwrap()).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let config = self.config_path();
        let mut full = vec!["--config", config.to_str().unwrap()];
        full.extend_from_slice(args);
        testkit::milly::cli::command(self.dir.path(), &full, &[])
    }

    /// `milly doctor` trusting the public site's CA, as an operator with a private CA runs it.
    async fn doctor(&self) -> Run {
        let ca = self.site.ca.to_str().unwrap().to_owned();
        run(self.command(&["doctor", "--ca", &ca])).await
    }

    /// Writes `config` and runs the doctor on it.
    async fn doctor_on(&self, config: &toml::Table) -> Run {
        self.write(config);
        self.doctor().await
    }
}

async fn run(mut cmd: Command) -> Run {
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().expect("milly runs");
        Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// The report's lines with this status (`ok`, `WARN`, `FAIL`, `skip`).
fn lines<'a>(out: &'a Run, status: &str) -> Vec<&'a str> {
    out.stdout
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(status))
        .collect()
}

/// Exit 1, and the only failing lines are `check`'s, each containing `says`.
fn fails_only(out: &Run, check: &str, says: &str) {
    assert_eq!(out.status, 1, "{out:?}");
    let failed = lines(out, "FAIL");
    assert!(!failed.is_empty(), "nothing failed:\n{}", out.stdout);
    for line in failed {
        assert!(
            line.starts_with(&format!("FAIL {check}")) && line.contains(says),
            "expected only `{check}` to fail, saying `{says}`:\n{}",
            out.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_deployment_passes_every_check() {
    let d = Deployment::start().await;
    let out = d.doctor().await;
    assert_eq!(out.status, 0, "{out:?}");
    let ok = lines(&out, "ok").join("\n");
    for check in [
        "config:",
        &format!("port {}:", d.web.port()),
        &format!("port {}:", d.node.port()),
        "public host: 127.0.0.1 is this machine",
        "public url host: localhost is this machine",
        "reality dest:",
        "clock: within 60 s",
        "descriptors:",
        "data directory:",
        "database: SQLite reachable, schema",
        "backups:",
        "bot token: getMe answers",
        &format!("yookassa: shop {SHOP}"),
        "webhook: [service] public_url",
    ] {
        assert!(
            ok.contains(&format!("ok   {check}")),
            "no ok line for `{check}`:\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains(BOT_TOKEN) && !out.stdout.contains(SHOP_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_held_by_the_running_milly_are_ours() {
    let d = Deployment::start().await;
    let config = d.config_path();
    let mut serve = testkit::milly::Serve::start(
        d.dir.path(),
        &["--config", config.to_str().unwrap()],
        &[],
        "website:",
    );
    let out = d.doctor().await;
    serve.terminate(Duration::from_secs(10));
    assert_eq!(out.status, 0, "{out:?}");
    for addr in [d.web, d.node] {
        let line = format!("ok   port {}: ", addr.port());
        let held = out
            .stdout
            .lines()
            .any(|l| l.starts_with(&line) && l.ends_with("is held by the running milly"));
        assert!(held, "{}", out.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_that_does_not_parse_is_named() {
    let d = Deployment::start().await;
    std::fs::write(d.config_path(), "[web\nlisten = 1\n").unwrap();
    fails_only(&d.doctor().await, "config", "milly.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_another_program_holds_is_named() {
    let d = Deployment::start().await;
    let _squatter = TcpListener::bind(d.node).unwrap();
    fails_only(
        &d.doctor().await,
        &format!("port {}", d.node.port()),
        "taken by another program",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_host_that_is_not_this_machine_fails() {
    let d = Deployment::start().await;
    let out = d
        .doctor_on(&d.config_with("node.public_host", "192.0.2.1"))
        .await;
    fails_only(&out, "public host", "192.0.2.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dest_without_tls13_fails() {
    let d = Deployment::start().await;
    let tls12 = TlsSite::start_large_with(DEST_NAME, &["-tls1_2"]);
    let out = d
        .doctor_on(&d.config_with("node.reality.dest", tls12.addr().to_string()))
        .await;
    fails_only(&out, "reality dest", "without TLS 1.3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dest_without_x25519_fails() {
    let d = Deployment::start().await;
    let p256 = TlsSite::start_large_with(DEST_NAME, &["-tls1_3", "-groups", "P-256"]);
    let out = d
        .doctor_on(&d.config_with("node.reality.dest", p256.addr().to_string()))
        .await;
    fails_only(&out, "reality dest", "X25519");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dest_with_a_small_certificate_fails() {
    let d = Deployment::start().await;
    let small = TlsSite::start(DEST_NAME);
    // With an ML-DSA-65 signature the node's certificate is 3.5 KB: more than a lone one.
    let seed: [u8; 32] = reality::Rng::array(&mut reality::SystemRng);
    let seed = reality::encode_key(&seed);
    let mut config = d.config_with("node.reality.dest", small.addr().to_string());
    config["node"]["reality"]
        .as_table_mut()
        .unwrap()
        .insert("mldsa65_seed".into(), seed.into());
    fails_only(&d.doctor_on(&config).await, "reality dest", "shorter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_off_by_ten_minutes_fails() {
    let d = Deployment::with_site(Duration::from_secs(600)).await;
    fails_only(&d.doctor().await, "clock", "behind the Date of");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_descriptor_limit_fails() {
    let d = Deployment::start().await;
    let config = d.config_path();
    let ca = d.site.ca.clone();
    let mut cmd = Command::new("sh");
    cmd.current_dir(d.dir.path())
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(testkit::milly::binary())
        .arg("--config")
        .arg(&config)
        .args(["doctor", "--ca"])
        .arg(&ca);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MILLY_") {
            cmd.env_remove(k);
        }
    }
    fails_only(&run(cmd).await, "descriptors", "limit is 256");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_writable_data_directory_fails() {
    use std::os::unix::fs::PermissionsExt as _;
    let d = Deployment::start().await;
    std::fs::set_permissions(d.data_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    fails_only(&d.doctor().await, "data directory", "chmod 700");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_fails() {
    let d = Deployment::start().await;
    let closed = free_tcp_addr();
    let url = format!("postgres://milly@{closed}/milly");
    let out = d.doctor_on(&d.config_with("database.url", url)).await;
    fails_only(&out, "database", "cannot open the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmigrated_database_fails_and_is_left_unmigrated() {
    let d = Deployment::start().await;
    let file = d.dir.path().join("empty.db");
    std::fs::write(&file, b"").unwrap();
    let url = format!("sqlite://{}", file.display());
    let out = d.doctor_on(&d.config_with("database.url", url)).await;
    fails_only(&out, "database", "schema 0 of");
    assert_eq!(
        std::fs::metadata(&file).unwrap().len(),
        0,
        "doctor migrated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_postgresql_database_passes() {
    let Some(db) = store::testing::TestDb::postgres().await else {
        assert!(
            std::env::var("CI").is_err(),
            "CI sets MILLY_TEST_POSTGRES_URL"
        );
        return;
    };
    let d = Deployment::start().await;
    let out = d
        .doctor_on(&d.config_with("database.url", db.url.clone()))
        .await;
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.contains("ok   database: PostgreSQL reachable"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_on_with_no_recent_backup_fail() {
    let d = Deployment::start().await;
    let empty = d.dir.path().join("no-backups-here");
    std::fs::create_dir(&empty).unwrap();
    let out = d
        .doctor_on(&d.config_with("backup.dir", empty.display().to_string()))
        .await;
    fails_only(&out, "backups", "no backup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_older_than_two_intervals_fails() {
    let d = Deployment::start().await;
    let backups = d.data_dir().join("backups");
    let three_days_ago = std::time::SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
    for entry in std::fs::read_dir(&backups).unwrap() {
        let file = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        file.set_modified(three_days_ago).unwrap();
    }
    fails_only(
        &d.doctor().await,
        "backups",
        "72 h old (every 24 h expected)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_bot_token_fails() {
    let d = Deployment::start().await;
    let out = d
        .doctor_on(&d.config_with(
            "telegram.token",
            "123456:AAnotTheToken0123456789abcdefghijk",
        ))
        .await;
    fails_only(&out, "bot token", "getMe");
    assert!(!out.stdout.contains("AAnotTheToken"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_yookassa_credentials_fail() {
    let d = Deployment::start().await;
    let out = d
        .doctor_on(&d.config_with("yookassa.secret_key", "not-the-key"))
        .await;
    fails_only(&out, "yookassa", "HTTP 401");
    assert!(!out.stdout.contains("not-the-key"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_webhook_url_fails() {
    let d = Deployment::start().await;
    let url = format!("http://localhost:{}/", d.site.addr.port());
    let out = d.doctor_on(&d.config_with("service.public_url", url)).await;
    fails_only(&out, "webhook", "is not https");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_certificate_nobody_trusts_fails() {
    let d = Deployment::start().await;
    // The same site, but the doctor is not told about its CA.
    let out = run(d.command(&["doctor"])).await;
    fails_only(&out, "webhook", "trusted certificate");
}

/// An HTTPS site on loopback with a self-signed certificate for `localhost` (its own CA, in
/// `ca`) whose every answer carries a `Date` `skew` ahead of the real time.
struct HttpsSite {
    addr: SocketAddr,
    ca: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsSite {
    async fn start(dir: &Path, skew: Duration) -> HttpsSite {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let (cert, key) = testkit::tls::write_self_signed(dir, &["localhost"]).unwrap();
        let certs = CertificateDer::pem_file_iter(&cert)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(&key).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let date = http_date(time::OffsetDateTime::now_utc() + skew);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Length: 0\r\n\
                         Connection: close\r\n\r\n"
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        HttpsSite {
            addr,
            ca: cert,
            task,
        }
    }
}

impl Drop for HttpsSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn http_date(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(format).unwrap()
}
