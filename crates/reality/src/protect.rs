//! TLS 1.3 record protection for one direction: AEAD keyed from a traffic secret, nonce from
//! the sequence number, inner content type and optional zero padding. The AEAD is aws-lc-rs's:
//! every byte of a connection goes through it, and on AES hardware it is about twice ring's
//! speed (bench/RESULTS.md); the handshake's own crypto stays on ring.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey};

use crate::key_schedule::expand_label;
use crate::record::{ContentType, MAX_CIPHERTEXT, MAX_PLAINTEXT, RECORD_HEADER_LEN};
use crate::suite::CipherSuite;
use crate::TlsError;

/// Bytes an AEAD tag adds to every record.
pub(crate) const TAG_LEN: usize = 16;

/// One direction's keys and sequence number.
pub(crate) struct Protector {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl std::fmt::Debug for Protector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protector")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Protector {
    pub(crate) fn new(suite: CipherSuite, secret: &[u8]) -> Protector {
        let hash = suite.hash();
        let alg = suite.aead();
        let key = expand_label(hash, secret, b"key", b"", alg.key_len());
        let iv_bytes = expand_label(hash, secret, b"iv", b"", 12);
        let mut iv = [0; 12];
        iv.copy_from_slice(&iv_bytes);
        // The key length comes from the algorithm itself, so this cannot fail.
        let key = LessSafeKey::new(UnboundKey::new(alg, &key).unwrap_or_else(|_| unreachable!()));
        Protector { key, iv, seq: 0 }
    }

    /// A direction keyed by another TLS implementation's handshake: the AEAD key and IV it
    /// derived, and the sequence number of the next record.
    pub(crate) fn from_key(
        suite: CipherSuite,
        key: &[u8],
        iv: [u8; 12],
        seq: u64,
    ) -> Result<Protector, TlsError> {
        let key = UnboundKey::new(suite.aead(), key).map_err(|_| TlsError::BadTrafficKey)?;
        Ok(Protector {
            key: LessSafeKey::new(key),
            iv,
            seq,
        })
    }

    fn next_nonce(&mut self) -> Result<Nonce, TlsError> {
        let seq = self.seq;
        self.seq = self.seq.checked_add(1).ok_or(TlsError::SequenceExhausted)?;
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        Ok(Nonce::assume_unique_for_key(nonce))
    }

    /// Appends one protected record carrying `payload` (at most [`MAX_PLAINTEXT`] bytes) of
    /// type `kind`, followed by `padding` zero bytes inside the encryption.
    pub(crate) fn seal(
        &mut self,
        kind: ContentType,
        payload: &[u8],
        padding: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        debug_assert!(payload.len() <= MAX_PLAINTEXT);
        let inner_len = payload.len() + 1 + padding;
        if inner_len > MAX_PLAINTEXT + 1 {
            return Err(TlsError::RecordOverflow);
        }
        let len = inner_len + TAG_LEN;
        let header = [23, 3, 3, (len >> 8) as u8, len as u8];
        out.extend_from_slice(&header);
        let start = out.len();
        out.extend_from_slice(payload);
        out.push(kind as u8);
        out.resize(out.len() + padding, 0);
        let nonce = self.next_nonce()?;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(header), &mut out[start..])
            .map_err(|_| TlsError::RecordOverflow)?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts one complete record in place; returns the inner content type and the
    /// plaintext's range within `record`.
    pub(crate) fn open(
        &mut self,
        record: &mut [u8],
    ) -> Result<(ContentType, std::ops::Range<usize>), TlsError> {
        if record[0] != ContentType::ApplicationData as u8 {
            return Err(TlsError::UnexpectedRecord(record[0]));
        }
        if record.len() > RECORD_HEADER_LEN + MAX_CIPHERTEXT {
            return Err(TlsError::RecordOverflow);
        }
        let (header, body) = record.split_at_mut(RECORD_HEADER_LEN);
        let nonce = self.next_nonce()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(&*header), body)
            .map_err(|_| TlsError::BadRecordMac)?;
        let Some(type_pos) = plain.iter().rposition(|&b| b != 0) else {
            return Err(TlsError::UnexpectedRecord(0));
        };
        if type_pos > MAX_PLAINTEXT {
            return Err(TlsError::RecordOverflow);
        }
        let kind = ContentType::from_u8(plain[type_pos])
            .ok_or(TlsError::UnexpectedRecord(plain[type_pos]))?;
        Ok((kind, RECORD_HEADER_LEN..RECORD_HEADER_LEN + type_pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_opens_with_its_type_and_without_padding() {
        for suite in CipherSuite::ALL {
            let mut tx = Protector::new(suite, &[1; 48][..suite.hash().len()]);
            let mut rx = Protector::new(suite, &[1; 48][..suite.hash().len()]);
            let mut wire = Vec::new();
            tx.seal(ContentType::Handshake, b"hello", 10, &mut wire)
                .unwrap();
            assert_eq!(wire.len(), 5 + 5 + 1 + 10 + TAG_LEN);
            let (kind, range) = rx.open(&mut wire).unwrap();
            assert_eq!(kind, ContentType::Handshake);
            assert_eq!(&wire[range], b"hello");
        }
    }

    #[test]
    fn a_direction_keyed_from_its_key_and_iv_matches_one_derived_from_the_secret() {
        for suite in CipherSuite::ALL {
            let secret = vec![7; suite.hash().len()];
            let hash = suite.hash();
            let key = expand_label(hash, &secret, b"key", b"", suite.aead().key_len());
            let mut iv = [0; 12];
            iv.copy_from_slice(&expand_label(hash, &secret, b"iv", b"", 12));
            let mut tx = Protector::new(suite, &secret);
            let mut wire = Vec::new();
            tx.seal(ContentType::ApplicationData, b"one", 0, &mut wire)
                .unwrap();
            tx.seal(ContentType::ApplicationData, b"two", 0, &mut wire)
                .unwrap();
            // Keyed as after the first record: it opens the second.
            let mut rx = Protector::from_key(suite, &key, iv, 1).unwrap();
            let second = &mut wire[5 + 3 + 1 + TAG_LEN..];
            let (_, range) = rx.open(second).unwrap();
            assert_eq!(&second[range], b"two");
        }
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        let suite = CipherSuite::Aes256GcmSha384;
        assert_eq!(
            Protector::from_key(suite, &[0; 16], [0; 12], 0).unwrap_err(),
            TlsError::BadTrafficKey
        );
    }

    #[test]
    fn a_flipped_bit_fails_authentication() {
        let suite = CipherSuite::Chacha20Poly1305Sha256;
        let mut tx = Protector::new(suite, &[2; 32]);
        let mut rx = Protector::new(suite, &[2; 32]);
        let mut wire = Vec::new();
        tx.seal(ContentType::ApplicationData, b"data", 0, &mut wire)
            .unwrap();
        wire[7] ^= 1;
        assert_eq!(rx.open(&mut wire), Err(TlsError::BadRecordMac));
    }
}
