//! `milly keygen reality`: a REALITY key pair, a short id and an optional ML-DSA-65 seed with
//! its public key, printed the way Xray prints them.

use anyhow::Result;
use reality::Rng as _;

pub struct RealityKeys {
    pub private_key: String,
    pub public_key: String,
    /// 8 random bytes as 16 hex digits, the longest short id clients accept.
    pub short_id: String,
    /// A 32-byte ML-DSA-65 seed (Xray's `mldsa65Seed`), unpadded base64url.
    pub mldsa65_seed: String,
    /// Its public key (Xray's `mldsa65Verify`, a link's `pqv`).
    pub mldsa65_verify: String,
}

impl RealityKeys {
    pub fn generate() -> Self {
        let mut rng = reality::SystemRng;
        let private = reality::generate_private_key(&mut rng);
        let short: [u8; 8] = rng.array();
        let seed: [u8; 32] = rng.array();
        Self {
            mldsa65_seed: reality::encode_key(&seed),
            mldsa65_verify: reality::Mldsa65SigningKey::from_seed(&seed)
                .public_key()
                .encode(),
            private_key: reality::encode_key(&private),
            public_key: reality::encode_key(&reality::public_key(&private)),
            short_id: short.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

pub fn reality() -> Result<()> {
    let keys = RealityKeys::generate();
    println!(
        "private_key = \"{}\"   # [node.reality], keep it secret",
        keys.private_key
    );
    println!(
        "public_key: {}   # goes into links as pbk=",
        keys.public_key
    );
    println!("short_ids = [\"{}\"]", keys.short_id);
    println!();
    println!("# Optional post-quantum certificate signature (Xray's mldsa65Seed / mldsa65Verify):");
    println!(
        "mldsa65_seed = \"{}\"   # [node.reality], keep it secret",
        keys.mldsa65_seed
    );
    println!(
        "mldsa65_verify: {}   # links carry it as pqv= (milly adds it to the links it prints)",
        keys.mldsa65_verify
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_a_matching_pair() {
        let k = RealityKeys::generate();
        let private = reality::decode_key(&k.private_key).unwrap();
        assert_eq!(
            reality::encode_key(&reality::public_key(&private)),
            k.public_key
        );
        assert_eq!(k.short_id.len(), 16);
        let seed = reality::decode_key(&k.mldsa65_seed).unwrap();
        assert_eq!(
            reality::Mldsa65SigningKey::from_seed(&seed)
                .public_key()
                .encode(),
            k.mldsa65_verify
        );
        assert_ne!(RealityKeys::generate().private_key, k.private_key);
    }
}
