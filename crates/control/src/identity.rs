//! The control plane's identity towards nodes: a self-signed certificate whose SHA-256 every
//! join string carries, so a node trusts exactly it and no CA is involved. It lives in the
//! store (one row), so every `milly serve` on the database presents the same certificate and a
//! node may dial any of them.

use std::sync::Arc;

use domain::{CertPin, JoinToken};
use feed_wire::JoinString;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::ControlError;

/// The name in the certificate; nodes check the pin, never the name.
const CERTIFICATE_NAME: &str = "milly-control-plane";

/// What this process presents to nodes, and the epoch its revisions belong to.
#[derive(Clone)]
pub struct ControlIdentity {
    pub certificate: CertificateDer<'static>,
    key: Arc<PrivateKeyDer<'static>>,
    pub pin: CertPin,
    pub epoch: [u8; 16],
}

impl std::fmt::Debug for ControlIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlIdentity")
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

impl ControlIdentity {
    /// The stored identity, made and stored first if this database has none.
    pub async fn load_or_create(app: &app::App) -> Result<Self, ControlError> {
        let candidate = generate()?;
        let stored = app.control_plane_identity(&candidate).await?;
        Self::from_stored(&stored)
    }

    fn from_stored(stored: &app::ControlPlaneIdentity) -> Result<Self, ControlError> {
        let certificate = rustls_pemfile::certs(&mut stored.certificate_pem.as_bytes())
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| ControlError::Certificate("no certificate in the stored PEM".into()))?;
        let key = rustls_pemfile::private_key(&mut stored.private_key_pem.as_bytes())
            .ok()
            .flatten()
            .ok_or_else(|| ControlError::Certificate("no private key in the stored PEM".into()))?;
        Ok(Self {
            pin: CertPin::of_der(&certificate),
            certificate,
            key: Arc::new(key),
            epoch: parse_epoch(&stored.feed_epoch).ok_or(ControlError::Certificate(
                "the stored feed epoch is not 32 hex digits".into(),
            ))?,
        })
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// The join string for `token`: nodes dial `address` (`host:port`) and accept only this
    /// identity's certificate there.
    pub fn join_string(
        &self,
        address: &str,
        token: &JoinToken,
    ) -> Result<JoinString, ControlError> {
        Ok(JoinString::new(address, self.pin, *token)?)
    }
}

fn generate() -> Result<app::ControlPlaneIdentity, ControlError> {
    let certified = rcgen::generate_simple_self_signed(vec![CERTIFICATE_NAME.to_owned()])
        .map_err(|e| ControlError::Generate(e.to_string()))?;
    let mut epoch = [0u8; 16];
    getrandom::fill(&mut epoch).map_err(|e| ControlError::Generate(e.to_string()))?;
    Ok(app::ControlPlaneIdentity {
        certificate_pem: certified.cert.pem(),
        private_key_pem: certified.key_pair.serialize_pem(),
        feed_epoch: epoch.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

fn parse_epoch(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut epoch = [0u8; 16];
    for (byte, pair) in epoch.iter_mut().zip(bytes.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_identity_reads_back_with_its_pin_and_epoch() {
        let stored = generate().unwrap();
        let identity = ControlIdentity::from_stored(&stored).unwrap();
        assert!(identity.pin.matches(&identity.certificate));
        assert_eq!(
            identity
                .epoch
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            stored.feed_epoch
        );
        assert_ne!(generate().unwrap().feed_epoch, stored.feed_epoch);
    }

    #[test]
    fn epochs_are_32_hex_digits() {
        assert_eq!(
            parse_epoch("00112233445566778899aabbccddeeff").map(|e| e[15]),
            Some(0xff)
        );
        assert_eq!(parse_epoch("0011"), None);
        assert_eq!(parse_epoch("zz112233445566778899aabbccddeeff"), None);
    }
}
