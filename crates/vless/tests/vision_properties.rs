//! Property tests for XTLS Vision: whatever one side writes and however the stream is cut on
//! the way, the other side reads exactly the same inner bytes; arbitrary input never panics.
#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the test failing

use proptest::prelude::*;
use vless::vision::{ReadMode, Vision, WriteMode};

const USER: [u8; 16] = [0x42; 16];

/// Inner writes: random bytes, TLS handshake-looking and application-data-looking records.
fn write() -> impl Strategy<Value = Vec<u8>> {
    let record = |kind: u8| {
        (1usize..3000).prop_map(move |len| {
            let mut r = vec![kind, 0x03, 0x03, (len >> 8) as u8, len as u8];
            r.resize(5 + len, 0x99);
            r
        })
    };
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2000),
        record(0x16),
        record(0x17),
        (1usize..4)
            .prop_flat_map(move |n| proptest::collection::vec(record(0x17), n))
            .prop_map(|records| records.concat()),
        proptest::collection::vec(any::<u8>(), 8000..20000),
    ]
}

proptest! {
    #[test]
    fn a_vision_stream_arrives_byte_exact_however_it_is_cut(
        writes in proptest::collection::vec(write(), 1..12),
        cuts in proptest::collection::vec(1usize..5000, 1..40),
        seed in any::<u32>(),
    ) {
        let mut state = seed;
        let mut rng = move |n: u32| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state % n
        };
        let mut writer = Vision::new(USER);
        let mut wire = Vec::new();
        for data in &writes {
            writer.write(data, &mut rng, &mut wire);
        }
        let mut reader = Vision::new(USER);
        let mut inner = Vec::new();
        let mut rest = &wire[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            reader.read(&rest[..n], &mut inner).unwrap();
            rest = &rest[n..];
        }
        prop_assert_eq!(inner, writes.concat());
        // Both sides agree on where padding stands.
        let expected = match writer.write_mode() {
            WriteMode::Padded => ReadMode::Padded,
            WriteMode::Plain => ReadMode::Plain,
            WriteMode::Direct => ReadMode::Direct,
        };
        prop_assert_eq!(reader.read_mode(), expected);
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_vision_reader(
        start_with_user in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut input = if start_with_user { USER.to_vec() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        let mut reader = Vision::new(USER);
        let mut inner = Vec::new();
        let _ = reader.read(&input, &mut inner);
        prop_assert!(inner.len() <= input.len());
    }
}
