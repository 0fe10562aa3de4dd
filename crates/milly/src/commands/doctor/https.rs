//! The HTTP clients the checks use: one that trusts what a visitor's system would (webpki's
//! roots, the system's CA bundle, and an operator's own CA given with `--ca`), and one that
//! takes any certificate, for reading a server's `Date`.

use std::path::Path;
use std::time::Duration;

/// Where Debian, Ubuntu, Alpine (first) and Fedora, RHEL (second) keep the system's CA bundle.
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);

/// Certificates trusted beside webpki's roots.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    extra: Vec<reqwest::Certificate>,
}

impl Trust {
    /// The system's bundle (if there is one) and `extra_ca` (PEM, one or more certificates).
    pub fn load(extra_ca: Option<&Path>) -> Result<Trust, String> {
        let mut extra = Vec::new();
        if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
            // An unreadable system bundle leaves webpki's roots, as browsers have their own.
            if let Ok(pem) = std::fs::read(bundle) {
                extra.extend(reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default());
            }
        }
        if let Some(path) = extra_ca {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read --ca {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| format!("--ca {} holds no PEM certificate", path.display()))?;
            if certs.is_empty() {
                return Err(format!("--ca {} holds no PEM certificate", path.display()));
            }
            extra.extend(certs);
        }
        Ok(Trust { extra })
    }

    /// A client that verifies certificates against webpki's roots and these.
    pub fn client(&self) -> Result<reqwest::Client, String> {
        let mut builder = base();
        for cert in &self.extra {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {e}"))
    }
}

/// A client that accepts any certificate: for answers whose content, not origin, is checked.
pub fn any_certificate() -> Result<reqwest::Client, String> {
    base()
        .danger_accept_invalid_certs(true)
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))
}

fn base() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
}

/// reqwest's error and its causes on one line, without the URL (the caller names the target).
pub fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// [`any_certificate`] reaching `host` at `addr`: a site by its name where DNS does not lead.
pub fn any_certificate_resolving(
    host: &str,
    addr: std::net::SocketAddr,
) -> Result<reqwest::Client, String> {
    base()
        .danger_accept_invalid_certs(true)
        .resolve(host, addr)
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))
}
