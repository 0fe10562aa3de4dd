//! Random secrets as they travel in URLs: bytes from the operating system's CSPRNG written as
//! URL-safe base64 without padding, and the check that a string is one of a given size.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// `N` fresh random bytes, URL-safe base64.
///
/// Panics only if the OS has no randomness at all, in which case no credential could be issued
/// safely anyway.
pub(crate) fn random_url_safe<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// `N` fresh random bytes from the operating system's CSPRNG.
///
/// Panics only if the OS has no randomness at all, in which case no credential could be issued
/// safely anyway.
#[allow(clippy::expect_used)]
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// Whether `s` is URL-safe base64 (no padding) of exactly `len` bytes.
pub(crate) fn is_url_safe_of_len(s: &str, len: usize) -> bool {
    URL_SAFE_NO_PAD
        .decode(s)
        .is_ok_and(|bytes| bytes.len() == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_has_its_size_and_is_fresh_each_time() {
        let a = random_url_safe::<16>();
        assert!(is_url_safe_of_len(&a, 16));
        assert!(!is_url_safe_of_len(&a, 15));
        assert_ne!(a, random_url_safe::<16>());
    }

    #[test]
    fn padding_and_other_alphabets_are_refused() {
        assert!(!is_url_safe_of_len("AAAAAAAAAAAAAAAAAAAAAA==", 16));
        assert!(!is_url_safe_of_len("+/+/+/+/+/+/+/+/+/+/+/", 16));
        assert!(is_url_safe_of_len("-_-_-_-_-_-_-_-_-_-_-w", 16));
    }
}
