//! AEAD throughput of ring and aws-lc-rs on this machine, for TLS records: seal and open in
//! place of full 16 KiB records with AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, the two
//! libraries alternating round by round so both meet the same machine state.
//!
//!   cargo run --release --manifest-path bench/crypto/Cargo.toml [SECONDS_PER_CELL] [ROUNDS]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A full TLS record's plaintext.
const RECORD: usize = 16 * 1024;
const TAG: usize = 16;

#[derive(Clone, Copy, Debug)]
enum Alg {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20Poly1305,
}

impl Alg {
    const ALL: [Alg; 3] = [Alg::Aes128Gcm, Alg::Aes256Gcm, Alg::Chacha20Poly1305];

    fn key_len(self) -> usize {
        match self {
            Alg::Aes128Gcm => 16,
            _ => 32,
        }
    }
}

/// Seals and opens records in place for about `time`; bytes of plaintext per second (each
/// record counted once for sealing and once for opening, as a relay does one of each).
trait Aead {
    fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG];
    fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> bool;
}

struct Ring(ring::aead::LessSafeKey);
struct AwsLc(aws_lc_rs::aead::LessSafeKey);

impl Aead for Ring {
    fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG] {
        use ring::aead::{Aad, Nonce};
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .expect("sealing a record");
        tag.as_ref().try_into().expect("a 16-byte tag")
    }
    fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> bool {
        use ring::aead::{Aad, Nonce};
        self.0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .is_ok()
    }
}

impl Aead for AwsLc {
    fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG] {
        use aws_lc_rs::aead::{Aad, Nonce};
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .expect("sealing a record");
        tag.as_ref().try_into().expect("a 16-byte tag")
    }
    fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> bool {
        use aws_lc_rs::aead::{Aad, Nonce};
        self.0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .is_ok()
    }
}

fn ring_key(alg: Alg, key: &[u8]) -> Ring {
    use ring::aead::{UnboundKey, AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305};
    let a = match alg {
        Alg::Aes128Gcm => &AES_128_GCM,
        Alg::Aes256Gcm => &AES_256_GCM,
        Alg::Chacha20Poly1305 => &CHACHA20_POLY1305,
    };
    Ring(ring::aead::LessSafeKey::new(
        UnboundKey::new(a, key).expect("a key of the right length"),
    ))
}

fn aws_key(alg: Alg, key: &[u8]) -> AwsLc {
    use aws_lc_rs::aead::{UnboundKey, AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305};
    let a = match alg {
        Alg::Aes128Gcm => &AES_128_GCM,
        Alg::Aes256Gcm => &AES_256_GCM,
        Alg::Chacha20Poly1305 => &CHACHA20_POLY1305,
    };
    AwsLc(aws_lc_rs::aead::LessSafeKey::new(
        UnboundKey::new(a, key).expect("a key of the right length"),
    ))
}

/// GB/s of record plaintext sealed and then opened, for about `time`.
fn measure(aead: &dyn Aead, time: Duration) -> f64 {
    let aad = [23u8, 3, 3, 0x40, 0x11];
    let mut buf = vec![0x5au8; RECORD];
    let mut seq: u64 = 0;
    let start = Instant::now();
    let mut bytes = 0u64;
    while start.elapsed() < time {
        for _ in 0..64 {
            let mut nonce = [7u8; 12];
            nonce[4..].copy_from_slice(&seq.to_be_bytes());
            seq += 1;
            let tag = aead.seal(nonce, &aad, &mut buf[..RECORD]);
            let mut sealed = std::mem::take(&mut buf);
            sealed.extend_from_slice(&tag);
            assert!(aead.open(nonce, &aad, &mut sealed), "a record failed to open");
            sealed.truncate(RECORD);
            buf = black_box(sealed);
            bytes += 2 * RECORD as u64;
        }
    }
    bytes as f64 / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let time = Duration::from_secs_f64(seconds);
    println!("| algorithm | round | ring GB/s | aws-lc-rs GB/s | aws-lc-rs / ring |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for alg in Alg::ALL {
        let key = vec![0x42u8; alg.key_len()];
        let (r, a) = (ring_key(alg, &key), aws_key(alg, &key));
        for round in 1..=rounds {
            // Alternating which goes first, so neither always meets a warmer machine.
            let (ring_gbs, aws_gbs) = if round % 2 == 1 {
                let x = measure(&r, time);
                (x, measure(&a, time))
            } else {
                let y = measure(&a, time);
                (measure(&r, time), y)
            };
            println!(
                "| {alg:?} | {round} | {ring_gbs:.2} | {aws_gbs:.2} | {:.2} |",
                aws_gbs / ring_gbs
            );
        }
    }
}
