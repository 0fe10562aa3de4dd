//! A Chrome-shaped ClientHello (the parts uTLS's HelloChrome_120 and, with an ML-KEM key,
//! HelloChrome_133 = HelloChrome_Auto reproduce): cipher suite list, extension set and values, GREASE, the
//! GREASE ECH extension, and the extension shuffle Chrome does since 106.

use crate::client_hello::ext;
use crate::record::{plain_record, ContentType};
use crate::rng::Rng;
use crate::wire::{handshake_message, put_u16, put_vec};

const CIPHER_SUITES: [u16; 15] = [
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035,
];
const SIGNATURE_ALGORITHMS: [u16; 8] = [
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];
const SECP256R1: u16 = 23;
const SECP384R1: u16 = 24;
const BROTLI: u16 = 2;
/// Chrome's GREASE ECH payload lengths (BoringSSL: 128..224 in steps of 32, plus the tag).
const ECH_PAYLOAD_LENS: [usize; 4] = [144, 176, 208, 240];
const ECH_HKDF_SHA256: u16 = 1;
const ECH_AES_128_GCM: u16 = 1;
const ECH_CHACHA20_POLY1305: u16 = 3;

/// What varies between two hellos.
#[derive(Debug, Clone)]
pub struct HelloParams {
    pub server_name: String,
    pub random: [u8; 32],
    pub session_id: [u8; 32],
    pub x25519_public: [u8; 32],
    /// An ML-KEM-768 encapsulation key: when present the hello offers X25519MLKEM768 first
    /// (its share is this key then `x25519_public`), as Chrome 131 and later do.
    pub mlkem_encapsulation_key: Option<Vec<u8>>,
}

/// A built ClientHello handshake message.
#[derive(Debug, Clone)]
pub struct ChromeHello {
    /// The handshake message, header included.
    pub message: Vec<u8>,
}

fn grease(rng: &mut impl Rng) -> u16 {
    let [b] = rng.array::<1>();
    let n = u16::from(b & 0xf0 | 0x0a);
    n << 8 | n
}

impl ChromeHello {
    /// Builds a hello; `rng` picks GREASE values, the extension order and the GREASE ECH.
    pub fn build(params: &HelloParams, rng: &mut impl Rng) -> ChromeHello {
        let cipher_grease = grease(rng);
        let group_grease = grease(rng);
        let version_grease = grease(rng);
        let first_ext_grease = grease(rng);
        let mut last_ext_grease = grease(rng);
        if last_ext_grease == first_ext_grease {
            last_ext_grease ^= 0x1010;
        }

        let mut middle: Vec<(u16, Vec<u8>)> = Vec::new();
        let mut add = |kind: u16, body: &dyn Fn(&mut Vec<u8>)| {
            let mut data = Vec::new();
            body(&mut data);
            middle.push((kind, data));
        };
        add(ext::SERVER_NAME, &|o| {
            put_vec(o, 2, |o| {
                o.push(0);
                put_vec(o, 2, |o| o.extend_from_slice(params.server_name.as_bytes()));
            })
        });
        add(ext::EXTENDED_MASTER_SECRET, &|_| {});
        add(ext::RENEGOTIATION_INFO, &|o| o.push(0));
        add(ext::SUPPORTED_GROUPS, &|o| {
            put_vec(o, 2, |o| {
                put_u16(o, group_grease);
                if params.mlkem_encapsulation_key.is_some() {
                    put_u16(o, crate::X25519_MLKEM768);
                }
                for g in [crate::X25519, SECP256R1, SECP384R1] {
                    put_u16(o, g);
                }
            })
        });
        add(ext::EC_POINT_FORMATS, &|o| put_vec(o, 1, |o| o.push(0)));
        add(ext::SESSION_TICKET, &|_| {});
        add(ext::ALPN, &|o| {
            put_vec(o, 2, |o| {
                for p in [&b"h2"[..], b"http/1.1"] {
                    put_vec(o, 1, |o| o.extend_from_slice(p));
                }
            })
        });
        add(ext::STATUS_REQUEST, &|o| {
            o.extend_from_slice(&[1, 0, 0, 0, 0])
        });
        add(ext::SIGNATURE_ALGORITHMS, &|o| {
            put_vec(o, 2, |o| {
                SIGNATURE_ALGORITHMS.iter().for_each(|&a| put_u16(o, a))
            })
        });
        add(ext::SCT, &|_| {});
        add(ext::KEY_SHARE, &|o| {
            put_vec(o, 2, |o| {
                put_u16(o, group_grease);
                put_vec(o, 2, |o| o.push(0));
                if let Some(ek) = &params.mlkem_encapsulation_key {
                    put_u16(o, crate::X25519_MLKEM768);
                    put_vec(o, 2, |o| {
                        o.extend_from_slice(ek);
                        o.extend_from_slice(&params.x25519_public);
                    });
                }
                put_u16(o, crate::X25519);
                put_vec(o, 2, |o| o.extend_from_slice(&params.x25519_public));
            })
        });
        add(ext::PSK_MODES, &|o| put_vec(o, 1, |o| o.push(1)));
        add(ext::SUPPORTED_VERSIONS, &|o| {
            put_vec(o, 1, |o| {
                for v in [version_grease, crate::TLS13, 0x0303] {
                    put_u16(o, v);
                }
            })
        });
        add(ext::COMPRESS_CERTIFICATE, &|o| {
            put_vec(o, 1, |o| put_u16(o, BROTLI))
        });
        // Chrome 133 (uTLS HelloChrome_Auto) moved ALPS to a new code point; Chrome 120/131 use the old one.
        let alps = if params.mlkem_encapsulation_key.is_some() {
            ext::APPLICATION_SETTINGS_NEW
        } else {
            ext::APPLICATION_SETTINGS
        };
        add(alps, &|o| {
            put_vec(o, 2, |o| put_vec(o, 1, |o| o.extend_from_slice(b"h2")))
        });
        // GREASE ECH as BoringSSL sends it: HKDF-SHA256 with AES-128-GCM or ChaCha20-Poly1305,
        // a random config id, a real X25519 public key as `enc`, a random payload.
        let [config_id, pick_len, pick_aead] = rng.array::<3>();
        let enc =
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(rng.array::<32>()))
                .to_bytes();
        let aead = if pick_aead & 1 == 0 {
            ECH_AES_128_GCM
        } else {
            ECH_CHACHA20_POLY1305
        };
        let mut payload = vec![0; ECH_PAYLOAD_LENS[usize::from(pick_len) % ECH_PAYLOAD_LENS.len()]];
        rng.fill(&mut payload);
        add(ext::ENCRYPTED_CLIENT_HELLO, &|o| {
            o.push(0); // outer
            put_u16(o, ECH_HKDF_SHA256);
            put_u16(o, aead);
            o.push(config_id);
            put_vec(o, 2, |o| o.extend_from_slice(&enc));
            put_vec(o, 2, |o| o.extend_from_slice(&payload));
        });

        // Chrome shuffles every extension but the GREASE ones (Fisher-Yates).
        for i in (1..middle.len()).rev() {
            let [a, b] = rng.array::<2>();
            let j = usize::from(u16::from_be_bytes([a, b])) % (i + 1);
            middle.swap(i, j);
        }

        let message = handshake_message(crate::client_hello::CLIENT_HELLO, |o| {
            put_u16(o, 0x0303);
            o.extend_from_slice(&params.random);
            put_vec(o, 1, |o| o.extend_from_slice(&params.session_id));
            put_vec(o, 2, |o| {
                put_u16(o, cipher_grease);
                CIPHER_SUITES.iter().for_each(|&s| put_u16(o, s));
            });
            put_vec(o, 1, |o| o.push(0));
            put_vec(o, 2, |o| {
                put_u16(o, first_ext_grease);
                put_u16(o, 0);
                for (kind, data) in &middle {
                    put_u16(o, *kind);
                    put_vec(o, 2, |o| o.extend_from_slice(data));
                }
                put_u16(o, last_ext_grease);
                put_vec(o, 2, |o| o.push(0));
            });
        });
        ChromeHello { message }
    }

    /// The hello in a record as Chrome sends it (record version TLS 1.0).
    pub fn record(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.message.len() + 5);
        plain_record(ContentType::Handshake, 0x0301, &self.message, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_hello::ClientHello;
    use crate::rng::test_rng;

    fn params() -> HelloParams {
        HelloParams {
            server_name: "a.example".into(),
            random: [1; 32],
            session_id: [0; 32],
            x25519_public: [2; 32],
            mlkem_encapsulation_key: None,
        }
    }

    #[test]
    fn grease_sits_first_and_last_and_the_rest_is_shuffled() {
        let a =
            ClientHello::parse(ChromeHello::build(&params(), &mut test_rng(1)).message).unwrap();
        let b =
            ClientHello::parse(ChromeHello::build(&params(), &mut test_rng(2)).message).unwrap();
        let is_grease = |t: u16| t & 0x0f0f == 0x0a0a && t >> 8 == t & 0xff;
        assert!(is_grease(a.extension_types[0]));
        assert!(is_grease(*a.extension_types.last().unwrap()));
        assert_eq!(a.extension_types.len(), 18);
        assert_ne!(a.extension_types, b.extension_types);
        let mut sa = a.extension_types[1..17].to_vec();
        let mut sb = b.extension_types[1..17].to_vec();
        sa.sort();
        sb.sort();
        assert_eq!(sa, sb);
    }

    #[test]
    fn cipher_suites_and_versions_start_with_grease_like_chrome() {
        let h =
            ClientHello::parse(ChromeHello::build(&params(), &mut test_rng(3)).message).unwrap();
        assert_eq!(h.cipher_suites.len(), 16);
        assert_eq!(h.cipher_suites[0] & 0x0f0f, 0x0a0a);
        assert_eq!(&h.cipher_suites[1..4], &[0x1301, 0x1302, 0x1303]);
        assert_eq!(&h.supported_versions[1..], &[0x0304, 0x0303]);
        assert_eq!(h.key_shares[0].data, vec![0]);
        assert_eq!(h.key_shares[0].group, h.supported_groups[0]);
    }

    #[test]
    fn the_post_quantum_hello_is_chrome_133_and_the_classic_one_chrome_120() {
        let classic =
            ClientHello::parse(ChromeHello::build(&params(), &mut test_rng(4)).message).unwrap();
        let pq_params = HelloParams {
            mlkem_encapsulation_key: Some(vec![1; 1184]),
            ..params()
        };
        let pq =
            ClientHello::parse(ChromeHello::build(&pq_params, &mut test_rng(4)).message).unwrap();
        assert!(classic.extension_types.contains(&ext::APPLICATION_SETTINGS));
        assert!(!classic.supported_groups.contains(&crate::X25519_MLKEM768));
        assert!(pq.extension_types.contains(&ext::APPLICATION_SETTINGS_NEW));
        assert_eq!(
            pq.key_shares
                .iter()
                .map(|k| k.group)
                .skip(1)
                .collect::<Vec<_>>(),
            [crate::X25519_MLKEM768, crate::X25519]
        );
    }
}
