//! The stack's one source of randomness for Vision's padding: the operating system's
//! generator behind `reality::SystemRng`.

use reality::{Rng, SystemRng};

/// A uniformly random value in `0..n` (rejection sampling, so no value is favoured); 0 for 0.
pub fn random_below(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let zone = u32::MAX - u32::MAX % n;
    loop {
        let v = u32::from_le_bytes(SystemRng.array());
        if v < zone {
            return v % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_stay_below_the_bound() {
        assert!((0..1000).all(|_| random_below(7) < 7));
        assert_eq!(random_below(1), 0);
        assert_eq!(random_below(0), 0);
    }
}
