//! Randomness as a small trait, so handshakes are deterministic under test.

/// A source of random bytes.
pub trait Rng {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// A random array.
    fn array<const N: usize>(&mut self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut out = [0; N];
        self.fill(&mut out);
        out
    }
}

/// The operating system's generator (through `ring`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&mut self, buf: &mut [u8]) {
        use ring::rand::SecureRandom;
        // The OS generator failing means the process cannot do cryptography at all; ring
        // documents it as not happening on supported platforms after startup.
        #[allow(clippy::expect_used)]
        ring::rand::SystemRandom::new()
            .fill(buf)
            .expect("operating system random generator failed");
    }
}

/// A deterministic generator for tests (splitmix64), never for keys in production.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl Rng {
    struct SplitMix(u64);
    impl Rng for SplitMix {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = self.0;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                *b = (z ^ (z >> 31)) as u8;
            }
        }
    }
    SplitMix(seed)
}
