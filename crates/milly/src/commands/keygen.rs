//! `milly keygen reality`: a REALITY key pair and short id, printed the way Xray prints them.

use anyhow::Result;
use reality::Rng as _;

pub struct RealityKeys {
    pub private_key: String,
    pub public_key: String,
    /// 8 random bytes as 16 hex digits, the longest short id clients accept.
    pub short_id: String,
}

impl RealityKeys {
    pub fn generate() -> Self {
        let mut rng = reality::SystemRng;
        let private = reality::generate_private_key(&mut rng);
        let short: [u8; 8] = rng.array();
        Self {
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
        assert_ne!(RealityKeys::generate().private_key, k.private_key);
    }
}
