//! One order from start to certificate: HTTP-01 answers published in [`Challenges`] while the
//! CA validates, a fresh key and CSR, the issued chain. The answers are withdrawn whatever
//! happens.

use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};

use crate::{Certificate, CertificateError, Challenges};

/// How long the CA gets to validate and to issue.
const POLL: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(500))
    .backoff(1.5)
    .timeout(Duration::from_secs(120));

/// Why an order gave no certificate (retried later by the manager).
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("the ACME server: {0}")]
    Acme(#[from] instant_acme::Error),
    #[error("the CA offers no HTTP-01 challenge for a name")]
    NoHttpChallenge,
    #[error("an authorization is {0:?}, not pending or valid")]
    Authorization(AuthorizationStatus),
    #[error("the order ended {0:?} instead of ready (see the CA's validation of port 80)")]
    NotReady(OrderStatus),
    #[error("cannot make the certificate request: {0}")]
    Csr(String),
    #[error("the issued certificate: {0}")]
    Issued(#[from] CertificateError),
}

/// Orders a certificate for `names` and waits for it.
pub(crate) async fn issue(
    account: &Account,
    names: &[String],
    challenges: &Challenges,
) -> Result<Certificate, OrderError> {
    let mut published = Vec::new();
    let outcome = issue_publishing(account, names, challenges, &mut published).await;
    for token in &published {
        challenges.remove(token);
    }
    outcome
}

async fn issue_publishing(
    account: &Account,
    names: &[String],
    challenges: &Challenges,
    published: &mut Vec<String>,
) -> Result<Certificate, OrderError> {
    let identifiers: Vec<Identifier> = names.iter().cloned().map(Identifier::Dns).collect();
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => return Err(OrderError::Authorization(other)),
        }
        let mut challenge = authorization
            .challenge(ChallengeType::Http01)
            .ok_or(OrderError::NoHttpChallenge)?;
        let token = challenge.token.clone();
        challenges.insert(&token, challenge.key_authorization().as_str());
        published.push(token);
        challenge.set_ready().await?;
    }
    let status = order.poll_ready(&POLL).await?;
    if status != OrderStatus::Ready {
        return Err(OrderError::NotReady(status));
    }
    let (csr, key_pem) = certificate_request(names)?;
    order.finalize_csr(&csr).await?;
    let chain_pem = order.poll_certificate(&POLL).await?;
    Ok(Certificate::from_pem(&chain_pem, &key_pem)?)
}

/// A new ECDSA P-256 key (a new one each time: a renewal never reuses the old key) and the
/// DER CSR for `names`.
fn certificate_request(names: &[String]) -> Result<(Vec<u8>, String), OrderError> {
    let csr_error = |e: rcgen::Error| OrderError::Csr(e.to_string());
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(csr_error)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let key = rcgen::KeyPair::generate().map_err(csr_error)?;
    let csr = params.serialize_request(&key).map_err(csr_error)?;
    Ok((csr.der().to_vec(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_has_a_key_of_its_own() {
        let names = vec!["vpn.example.com".to_owned()];
        let (csr_a, key_a) = certificate_request(&names).unwrap();
        let (csr_b, key_b) = certificate_request(&names).unwrap();
        assert_ne!(key_a, key_b);
        assert_ne!(csr_a, csr_b);
        assert!(key_a.contains("PRIVATE KEY"));
    }
}
