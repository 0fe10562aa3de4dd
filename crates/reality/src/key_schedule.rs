//! The TLS 1.3 key schedule (RFC 8446 section 7) and the running transcript.

use crate::suite::HashAlg;
use crate::wire::put_vec;

/// HKDF-Expand-Label.
pub(crate) fn expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Vec<u8> {
    let mut info = Vec::with_capacity(4 + 6 + label.len() + context.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    put_vec(&mut info, 1, |o| {
        o.extend_from_slice(b"tls13 ");
        o.extend_from_slice(label);
    });
    put_vec(&mut info, 1, |o| o.extend_from_slice(context));
    hash.expand(secret, &info, len)
}

/// Derive-Secret with an already computed transcript hash.
pub(crate) fn derive_secret(hash: HashAlg, secret: &[u8], label: &[u8], th: &[u8]) -> Vec<u8> {
    expand_label(hash, secret, label, th, hash.len())
}

/// The handshake messages so far; hashed on demand (a handshake is a few KiB).
#[derive(Debug, Clone, Default)]
pub(crate) struct Transcript {
    bytes: Vec<u8>,
}

impl Transcript {
    pub(crate) fn add(&mut self, message: &[u8]) {
        self.bytes.extend_from_slice(message);
    }

    pub(crate) fn hash(&self, hash: HashAlg) -> Vec<u8> {
        hash.digest(&self.bytes)
    }
}

/// Secrets after the ServerHello.
#[derive(Debug, Clone)]
pub(crate) struct HandshakeSecrets {
    pub(crate) client: Vec<u8>,
    pub(crate) server: Vec<u8>,
    pub(crate) master: Vec<u8>,
}

/// From the (EC)DHE shared secret and the hash of ClientHello..ServerHello.
pub(crate) fn handshake_secrets(hash: HashAlg, shared: &[u8], th: &[u8]) -> HandshakeSecrets {
    let zeros = vec![0; hash.len()];
    let early = hash.extract(&zeros, &zeros);
    let empty_hash = hash.digest(b"");
    let derived = derive_secret(hash, &early, b"derived", &empty_hash);
    let handshake = hash.extract(&derived, shared);
    let client = derive_secret(hash, &handshake, b"c hs traffic", th);
    let server = derive_secret(hash, &handshake, b"s hs traffic", th);
    let derived = derive_secret(hash, &handshake, b"derived", &empty_hash);
    let master = hash.extract(&derived, &zeros);
    HandshakeSecrets {
        client,
        server,
        master,
    }
}

/// Client and server application traffic secrets from the hash of ClientHello..server Finished.
pub(crate) fn application_secrets(hash: HashAlg, master: &[u8], th: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (
        derive_secret(hash, master, b"c ap traffic", th),
        derive_secret(hash, master, b"s ap traffic", th),
    )
}

/// The verify_data of a Finished message.
pub(crate) fn finished_mac(hash: HashAlg, traffic_secret: &[u8], th: &[u8]) -> Vec<u8> {
    let key = expand_label(hash, traffic_secret, b"finished", b"", hash.len());
    hash.hmac(&key, th)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    // RFC 8448 section 3 ("Simple 1-RTT Handshake") values.
    #[test]
    fn handshake_secrets_match_rfc_8448() {
        let shared = unhex("8b d4 05 4f b5 5b 9d 63 fd fb ac f9 f0 4b 9f 0d 35 e6 d6 3f 53 75 63 ef d4 62 72 90 0f 89 49 2d");
        let th = unhex("86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca d8");
        let s = handshake_secrets(HashAlg::Sha256, &shared, &th);
        assert_eq!(
            s.client,
            unhex("b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21")
        );
        assert_eq!(
            s.server,
            unhex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38")
        );
        assert_eq!(
            s.master,
            unhex("18 df 06 84 3d 13 a0 8b f2 a4 49 84 4c 5f 8a 47 80 01 bc 4d 4c 62 79 84 d5 a4 1d a8 d0 40 29 19")
        );
    }

    #[test]
    fn traffic_key_and_iv_match_rfc_8448() {
        let server_hs = unhex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38");
        assert_eq!(
            expand_label(HashAlg::Sha256, &server_hs, b"key", b"", 16),
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(
            expand_label(HashAlg::Sha256, &server_hs, b"iv", b"", 12),
            unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30")
        );
    }
}
