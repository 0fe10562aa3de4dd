//! The three TLS 1.3 cipher suites and the hash functions behind them.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha384};

/// A TLS 1.3 cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    Aes128GcmSha256,
    Aes256GcmSha384,
    Chacha20Poly1305Sha256,
}

impl CipherSuite {
    /// All suites in our order of preference (Go's order with AES hardware).
    pub const ALL: [CipherSuite; 3] = [
        CipherSuite::Aes128GcmSha256,
        CipherSuite::Aes256GcmSha384,
        CipherSuite::Chacha20Poly1305Sha256,
    ];

    /// The suite's number on the wire.
    pub fn id(self) -> u16 {
        match self {
            CipherSuite::Aes128GcmSha256 => 0x1301,
            CipherSuite::Aes256GcmSha384 => 0x1302,
            CipherSuite::Chacha20Poly1305Sha256 => 0x1303,
        }
    }

    /// The suite with that number, if it is one of ours.
    pub fn from_id(id: u16) -> Option<CipherSuite> {
        CipherSuite::ALL.into_iter().find(|s| s.id() == id)
    }

    pub(crate) fn hash(self) -> HashAlg {
        match self {
            CipherSuite::Aes256GcmSha384 => HashAlg::Sha384,
            _ => HashAlg::Sha256,
        }
    }

    pub(crate) fn aead(self) -> &'static aws_lc_rs::aead::Algorithm {
        match self {
            CipherSuite::Aes128GcmSha256 => &aws_lc_rs::aead::AES_128_GCM,
            CipherSuite::Aes256GcmSha384 => &aws_lc_rs::aead::AES_256_GCM,
            CipherSuite::Chacha20Poly1305Sha256 => &aws_lc_rs::aead::CHACHA20_POLY1305,
        }
    }
}

/// The hash of a suite: transcript hash, HKDF and HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
}

impl HashAlg {
    pub(crate) fn len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => Sha384::digest(data).to_vec(),
        }
    }

    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
        match self {
            HashAlg::Sha256 => {
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            HashAlg::Sha384 => {
                let mut mac =
                    <Hmac<Sha384> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    pub(crate) fn extract(self, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => Hkdf::<Sha256>::extract(Some(salt), ikm).0.to_vec(),
            HashAlg::Sha384 => Hkdf::<Sha384>::extract(Some(salt), ikm).0.to_vec(),
        }
    }

    /// HKDF-Expand; `len` is always at most 255 hash lengths in TLS 1.3's uses.
    pub(crate) fn expand(self, prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        let ok = match self {
            HashAlg::Sha256 => Hkdf::<Sha256>::from_prk(prk)
                .map(|h| h.expand(info, &mut out).is_ok())
                .unwrap_or(false),
            HashAlg::Sha384 => Hkdf::<Sha384>::from_prk(prk)
                .map(|h| h.expand(info, &mut out).is_ok())
                .unwrap_or(false),
        };
        debug_assert!(ok, "HKDF-Expand with a full-length PRK and a short output");
        out
    }
}
