//! Keeps one certificate current: loaded from the data directory at start when still valid,
//! ordered when missing, renewed once a third of its lifetime is left, retried with backoff
//! when the CA or the validation fails, and installed into the [`CertResolver`] each time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use instant_acme::{Account, AccountCredentials, NewAccount};
use tokio_util::sync::CancellationToken;

use crate::files::Files;
use crate::order::{self, OrderError};
use crate::{CertResolver, Certificate, Challenges, FilesError};

/// Let's Encrypt's production directory, the default CA.
pub const LETS_ENCRYPT_DIRECTORY: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// First wait after a failed order; it doubles up to [`MAX_BACKOFF`] (a CA counts failed
/// validations per hour: Let's Encrypt allows 5 per name).
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// One order, account set-up included, gives up after this (a CA that hangs).
const ORDER_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest sleep before the renewal time is looked at again (the wall clock may jump).
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// What [`Manager`] needs, built by `milly` from `[web]`.
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    /// The names on the certificate (the website's domain first).
    pub names: Vec<String>,
    /// The CA's directory URL.
    pub directory: String,
    /// A contact address given to the CA, if any.
    pub contact_email: Option<String>,
    /// An extra root to trust for the directory's HTTPS (a test or private CA); without it the
    /// system's roots are used.
    pub ca_file: Option<PathBuf>,
    /// Where the account and the certificate are kept (`acme/` in the data directory).
    pub dir: PathBuf,
}

/// Why the manager cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no names to order a certificate for")]
    NoNames,
    #[error(transparent)]
    Files(#[from] FilesError),
}

/// Why one attempt gave no certificate.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("the account: {0}")]
    Account(instant_acme::Error),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("the stored account is not readable: {0}")]
    StoredAccount(serde_json::Error),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

pub struct Manager {
    settings: AcmeSettings,
    files: Files,
    resolver: Arc<CertResolver>,
    challenges: Challenges,
    current: Option<Certificate>,
}

impl Manager {
    /// Opens the data directory's `acme/` and installs the stored certificate if it is for
    /// these names and not expired (one due for renewal is still served until the new one).
    pub fn start(settings: AcmeSettings) -> Result<Self, StartError> {
        if settings.names.is_empty() {
            return Err(StartError::NoNames);
        }
        let files = Files::open(&settings.dir)?;
        let resolver = Arc::new(CertResolver::new());
        let current = match files.certificate(&settings.names)? {
            Some((chain, key)) => match Certificate::from_pem(&chain, &key) {
                Ok(cert) if cert.not_after() > SystemTime::now() => Some(cert),
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "acme: the stored certificate is not usable; ordering a new one");
                    None
                }
            },
            None => None,
        };
        if let Some(cert) = &current {
            resolver.install(cert);
        }
        Ok(Self {
            settings,
            files,
            resolver,
            challenges: Challenges::new(),
            current,
        })
    }

    /// The resolver every server presenting this certificate is built with.
    pub fn resolver(&self) -> Arc<CertResolver> {
        self.resolver.clone()
    }

    /// The HTTP-01 answers the plain-HTTP listener serves.
    pub fn challenges(&self) -> Challenges {
        self.challenges.clone()
    }

    /// A certificate was loaded from the data directory at start.
    pub fn has_stored_certificate(&self) -> bool {
        self.current.is_some()
    }

    /// Keeps the certificate current until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        // rustls needs a process-wide provider when more than one is compiled in; ring is
        // milly's everywhere. An error only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut account = None;
        let mut backoff = FIRST_BACKOFF;
        let names = self.settings.names.join(", ");
        loop {
            if let Some(cert) = &self.current {
                if !sleep_until(cert.renew_at(), &shutdown).await {
                    return;
                }
                if cert.is_fresh(SystemTime::now()) {
                    continue;
                }
            }
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return,
                a = tokio::time::timeout(ORDER_TIMEOUT, self.attempt(&mut account)) => {
                    a.unwrap_or(Err(AttemptError::TimedOut(ORDER_TIMEOUT)))
                }
            };
            match attempt {
                Ok(cert) => {
                    self.resolver.install(&cert);
                    tracing::info!(
                        names = %names,
                        valid_until = %unix_secs(cert.not_after()),
                        renew_at = %unix_secs(cert.renew_at()),
                        "acme: certificate issued"
                    );
                    self.current = Some(cert);
                    backoff = FIRST_BACKOFF;
                }
                Err(e) => {
                    tracing::warn!(names = %names, error = %e, retry_in_secs = backoff.as_secs(), "acme: no certificate this time");
                    // A broken account (the CA forgot it, another directory) is made anew.
                    if matches!(e, AttemptError::Account(_) | AttemptError::StoredAccount(_)) {
                        account = None;
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn attempt(&self, account: &mut Option<Account>) -> Result<Certificate, AttemptError> {
        let account = match account {
            Some(a) => a,
            None => account.insert(self.account().await?),
        };
        let cert = order::issue(account, &self.settings.names, &self.challenges).await?;
        self.files.save_certificate(&self.settings.names, &cert)?;
        Ok(cert)
    }

    /// The stored account for this directory, or a new one (stored before it is used).
    async fn account(&self) -> Result<Account, AttemptError> {
        let builder = || match &self.settings.ca_file {
            Some(path) => Account::builder_with_root(path),
            None => Account::builder(),
        };
        if let Some(json) = self.files.account()? {
            let stored: StoredAccount =
                serde_json::from_str(&json).map_err(AttemptError::StoredAccount)?;
            if stored.directory == self.settings.directory {
                return builder()
                    .map_err(AttemptError::Account)?
                    .from_credentials(stored.credentials)
                    .await
                    .map_err(AttemptError::Account);
            }
        }
        let contact = self
            .settings
            .contact_email
            .as_ref()
            .map(|email| format!("mailto:{email}"));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder()
            .map_err(AttemptError::Account)?
            .create(
                &NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.settings.directory.clone(),
                None,
            )
            .await
            .map_err(AttemptError::Account)?;
        let stored = StoredAccount {
            directory: self.settings.directory.clone(),
            credentials,
        };
        let json = serde_json::to_string(&stored).map_err(AttemptError::StoredAccount)?;
        self.files.save_account(&json)?;
        Ok(account)
    }
}

/// `account.json`: the credentials (its private key among them) and the directory they are for.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// Sleeps until `at` (in steps of at most [`MAX_SLEEP`]); false if shutdown came first.
async fn sleep_until(at: SystemTime, shutdown: &CancellationToken) -> bool {
    loop {
        let Ok(left) = at.duration_since(SystemTime::now()) else {
            return true;
        };
        if left.is_zero() {
            return true;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(left.min(MAX_SLEEP)) => {}
        }
    }
}

/// Seconds since the Unix epoch, for the log.
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::pem_valid;

    fn settings(dir: &std::path::Path) -> AcmeSettings {
        AcmeSettings {
            names: vec!["vpn.example.com".into()],
            directory: "https://127.0.0.1:1/dir".into(),
            contact_email: None,
            ca_file: None,
            dir: dir.join("acme"),
        }
    }

    #[test]
    fn a_stored_unexpired_certificate_is_served_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let (chain, key) = pem_valid("vpn.example.com", now - 86_400, 90);
        let cert = Certificate::from_pem(&chain, &key).unwrap();
        Files::open(&s.dir)
            .unwrap()
            .save_certificate(&s.names, &cert)
            .unwrap();
        let manager = Manager::start(s).unwrap();
        assert!(manager.has_stored_certificate());
        assert!(manager.resolver().is_ready());
    }

    #[test]
    fn an_expired_stored_certificate_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let (chain, key) = pem_valid("vpn.example.com", 1_600_000_000, 90);
        let cert = Certificate::from_pem(&chain, &key).unwrap();
        Files::open(&s.dir)
            .unwrap()
            .save_certificate(&s.names, &cert)
            .unwrap();
        let manager = Manager::start(s).unwrap();
        assert!(!manager.has_stored_certificate());
        assert!(!manager.resolver().is_ready());
    }

    #[tokio::test]
    async fn an_unreachable_ca_is_retried_until_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let manager = Manager::start(settings(dir.path())).unwrap();
        let resolver = manager.resolver();
        let shutdown = CancellationToken::new();
        let run = tokio::spawn(manager.run(shutdown.clone()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!resolver.is_ready());
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), run)
            .await
            .unwrap()
            .unwrap();
    }
}
