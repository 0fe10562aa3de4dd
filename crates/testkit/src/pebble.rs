//! Let's Encrypt's test CA, `pebble` (Debian package `pebble`), run for one test: its ACME
//! directory over HTTPS with a certificate from a throwaway CA of ours, HTTP-01 validation
//! against a port of the test's choosing, and `pebble-challtestsrv` as its DNS server, which
//! answers 127.0.0.1 for every name (so a name such as `milly.test` is this machine). Nothing is
//! faked: pebble really fetches the challenge from that port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::peer::running_in_ci;
use crate::port::{free_port, free_tcp_addr};
use crate::process::{Process, ProcessError};

const PEBBLE: &str = "/usr/bin/pebble";
const CHALLTESTSRV: &str = "/usr/bin/pebble-challtestsrv";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum PebbleError {
    #[error("cannot prepare pebble's directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot make pebble's certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("curl could not fetch pebble's issuing root: {0}")]
    Root(String),
}

/// A running pebble and its DNS server; both killed when dropped.
pub struct Pebble {
    directory: SocketAddr,
    management: SocketAddr,
    wfe_ca: PathBuf,
    // Field order matters: the processes die before their directory goes away.
    _pebble: Process,
    _dns: Process,
    dir: tempfile::TempDir,
}

impl Pebble {
    /// Pebble validating HTTP-01 on `http_port` and issuing certificates valid for
    /// `validity_secs`; `None` (the test is skipped) when pebble is not installed, outside CI.
    pub async fn start(http_port: u16, validity_secs: u64) -> Result<Option<Self>, PebbleError> {
        if !Path::new(PEBBLE).exists() || !Path::new(CHALLTESTSRV).exists() {
            let msg = "pebble is not installed (apt-get install pebble)";
            assert!(!running_in_ci(), "{msg}");
            eprintln!("skipped: {msg}");
            return Ok(None);
        }
        let dir = tempfile::tempdir()?;
        let wfe_ca = write_wfe_certificate(dir.path())?;
        let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let dns_process = Process::spawn(
            "pebble-challtestsrv",
            Path::new(CHALLTESTSRV),
            [
                "-dns01",
                &dns.to_string(),
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                &free_tcp_addr().to_string(),
            ],
            &[],
            dir.path(),
        )?;
        let directory = free_tcp_addr();
        let management = free_tcp_addr();
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": directory.to_string(),
                "managementListenAddress": management.to_string(),
                "certificate": dir.path().join("wfe-cert.pem"),
                "privateKey": dir.path().join("wfe-key.pem"),
                "httpPort": http_port,
                "tlsPort": free_port(),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
                "certificateValidityPeriod": validity_secs,
            }
        });
        let config_path = dir.path().join("pebble-config.json");
        std::fs::write(&config_path, config.to_string())?;
        let mut pebble = Process::spawn(
            "pebble",
            Path::new(PEBBLE),
            [
                "-config".as_ref(),
                config_path.as_os_str(),
                "-dnsserver".as_ref(),
                dns.to_string().as_ref(),
            ],
            // No random sleeps before validation, no random nonce rejections, and a fresh
            // validation for every order (a renewal fetches the challenge again).
            &[
                ("PEBBLE_VA_NOSLEEP", "1"),
                ("PEBBLE_WFE_NONCEREJECT", "0"),
                ("PEBBLE_AUTHZREUSE", "0"),
            ],
            dir.path(),
        )?;
        pebble.wait_for_tcp(directory, READY_TIMEOUT).await?;
        pebble.wait_for_tcp(management, READY_TIMEOUT).await?;
        Ok(Some(Pebble {
            directory,
            management,
            wfe_ca,
            _pebble: pebble,
            _dns: dns_process,
            dir,
        }))
    }

    /// The ACME directory URL.
    pub fn directory_url(&self) -> String {
        format!("https://{}/dir", self.directory)
    }

    /// The root (PEM) that signed the directory's own HTTPS certificate.
    pub fn directory_ca_file(&self) -> &Path {
        &self.wfe_ca
    }

    /// The root pebble issues certificates under (it makes a new one at each start), written
    /// to a file for `curl --cacert`.
    pub fn issuing_root_file(&self) -> Result<PathBuf, PebbleError> {
        let path = self.dir.path().join("issuing-root.pem");
        let out = Command::new("curl")
            .args(["--silent", "--show-error", "--fail", "--cacert"])
            .arg(&self.wfe_ca)
            .arg("--output")
            .arg(&path)
            .arg(format!("https://{}/roots/0", self.management))
            .output()?;
        if !out.status.success() {
            return Err(PebbleError::Root(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        Ok(path)
    }
}

/// A throwaway CA and the directory's certificate for 127.0.0.1 and localhost, signed by it;
/// returns the CA's file.
fn write_wfe_certificate(dir: &Path) -> Result<PathBuf, PebbleError> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "milly test: pebble's directory CA",
    );
    let ca = ca_params.self_signed(&ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    std::fs::write(dir.join("wfe-cert.pem"), cert.pem())?;
    std::fs::write(dir.join("wfe-key.pem"), key.serialize_pem())?;
    let ca_path = dir.join("wfe-ca.pem");
    std::fs::write(&ca_path, ca.pem())?;
    Ok(ca_path)
}
