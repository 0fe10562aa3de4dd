//! XTLS Vision (`flow = "xtls-rprx-vision"`) as a sans-I/O state machine.
//!
//! Vision runs inside the VLESS body, after the request and response headers. Each side pads
//! its first writes into frames (see `frame`) so their sizes do not reveal the inner TLS
//! handshake, watches the first packets of both directions to recognise that handshake (see
//! `filter`), and at the first inner application-data record stops padding. When the inner
//! TLS is 1.3, both sides then switch to direct copy: the already-encrypted inner records go
//! over raw TCP instead of being encrypted again by the outer TLS.
//!
//! A [`Vision`] holds one connection's state for one side (server or client; they are
//! symmetric): feed what arrives from the peer through [`Vision::read`] and what goes to the
//! peer through [`Vision::write`]. The I/O layer acts on the modes they return; on
//! [`ReadMode::Direct`] it must also hand on, as raw inner bytes, whatever its outer TLS layer
//! has received from the socket but not yet decrypted.

mod filter;
mod frame;
mod pad;
mod unpad;

pub use filter::{TlsFilter, PACKETS_TO_FILTER};
pub use frame::{
    encode_frame, padding_len, ContentTooLarge, FrameCommand, PaddingSeed, BUFFER_SIZE,
    FRAME_OVERHEAD,
};
pub use pad::{Padder, WriteMode};
pub use unpad::{ReadMode, UnknownCommand, Unpadder};

/// One side of one Vision connection.
#[derive(Debug, Clone)]
pub struct Vision {
    filter: TlsFilter,
    unpadder: Unpadder,
    padder: Padder,
}

impl Vision {
    /// `user` is the 16-byte id exactly as the client sent it in the request header (not the
    /// lookup key): both directions' first frames carry it and the receiver checks it.
    pub fn new(user: [u8; 16]) -> Self {
        Vision::with_seed(user, PaddingSeed::default())
    }

    /// Like [`Vision::new`] with other padding parameters (Xray-core's `testseed`).
    pub fn with_seed(user: [u8; 16], seed: PaddingSeed) -> Self {
        Vision {
            filter: TlsFilter::default(),
            unpadder: Unpadder::new(user),
            padder: Padder::new(user, seed),
        }
    }

    /// What the filter has learned about the inner TLS.
    pub fn filter(&self) -> &TlsFilter {
        &self.filter
    }

    /// The reading side's mode.
    pub fn read_mode(&self) -> ReadMode {
        self.unpadder.mode()
    }

    /// The writing side's mode.
    pub fn write_mode(&self) -> WriteMode {
        self.padder.mode()
    }

    /// Takes bytes from the peer (outer-TLS plaintext), appends the inner bytes to `out`.
    ///
    /// Once this returns [`ReadMode::Direct`], read the socket directly (raw) from then on.
    pub fn read(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<ReadMode, UnknownCommand> {
        // Xray-core unpads and filters per 8192-byte buffer; the filter counts buffers.
        for piece in input.chunks(BUFFER_SIZE) {
            let start = out.len();
            self.unpadder.feed(piece, out)?;
            if self.filter.is_filtering() && out.len() > start {
                self.filter.observe(&out[start..]);
            }
        }
        Ok(self.unpadder.mode())
    }

    /// Takes inner bytes to send to the peer and appends what to send to `out`.
    ///
    /// `random_below(n)` must return a uniformly random value in `0..n` (use a CSPRNG).
    /// After [`WriteMode::Direct`], send this call's output through the outer TLS and later
    /// writes' output straight to the socket.
    pub fn write(
        &mut self,
        data: &[u8],
        random_below: &mut impl FnMut(u32) -> u32,
        out: &mut Vec<u8>,
    ) -> WriteMode {
        self.padder.write(data, &mut self.filter, random_below, out)
    }
}

#[cfg(test)]
mod tests {
    use super::filter::tests::{client_hello, server_hello};
    use super::*;

    const USER: [u8; 16] = [0x5c; 16];

    fn app_record(len: usize) -> Vec<u8> {
        let mut r = vec![0x17, 0x03, 0x03, (len >> 8) as u8, len as u8];
        r.resize(5 + len, 0xa5);
        r
    }

    /// A tiny deterministic generator, enough to vary padding lengths.
    fn counter() -> impl FnMut(u32) -> u32 {
        let mut state = 12345u32;
        move |n| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 8) % n
        }
    }

    #[test]
    fn a_tls13_session_is_padded_then_switches_both_sides_to_direct() {
        let mut client = Vision::new(USER);
        let mut server = Vision::new(USER);
        let mut rng = counter();

        // Client → server: the inner ClientHello, padded and carrying the user id.
        let mut wire = Vec::new();
        assert_eq!(
            client.write(&client_hello(), &mut rng, &mut wire),
            WriteMode::Padded
        );
        assert_eq!(&wire[..16], &USER);
        assert!(
            wire.len() >= 16 + 5 + 900,
            "short content gets long padding"
        );
        let mut inner = Vec::new();
        assert_eq!(server.read(&wire, &mut inner), Ok(ReadMode::Padded));
        assert_eq!(inner, client_hello());
        assert!(server.filter().is_tls());

        // Server → client: the ServerHello plus the first encrypted handshake record.
        let mut hello = server_hello(0x1301, true);
        hello.extend_from_slice(&app_record(40));
        wire.clear();
        assert_eq!(server.write(&hello, &mut rng, &mut wire), WriteMode::Padded);
        assert!(server.filter().enable_xtls());
        inner.clear();
        assert_eq!(client.read(&wire, &mut inner), Ok(ReadMode::Padded));
        assert_eq!(inner, hello);
        assert!(client.filter().enable_xtls());

        // Client → server: its Finished, a complete application-data record: direct.
        let finished = app_record(53);
        wire.clear();
        assert_eq!(
            client.write(&finished, &mut rng, &mut wire),
            WriteMode::Direct
        );
        inner.clear();
        assert_eq!(server.read(&wire, &mut inner), Ok(ReadMode::Direct));
        assert_eq!(inner, finished);

        // Server → client: its first application data, also direct; later writes unchanged.
        let data = app_record(300);
        wire.clear();
        assert_eq!(server.write(&data, &mut rng, &mut wire), WriteMode::Direct);
        inner.clear();
        assert_eq!(client.read(&wire, &mut inner), Ok(ReadMode::Direct));
        assert_eq!(inner, data);
        wire.clear();
        server.write(b"raw", &mut rng, &mut wire);
        assert_eq!(wire, b"raw");
    }

    #[test]
    fn tls12_inside_ends_padding_without_direct_copy() {
        let mut client = Vision::new(USER);
        let mut server = Vision::new(USER);
        let mut rng = counter();
        let mut wire = Vec::new();
        client.write(&client_hello(), &mut rng, &mut wire);
        server.read(&wire, &mut Vec::new()).unwrap();
        wire.clear();
        server.write(&server_hello(0xc02f, false), &mut rng, &mut wire);
        client.read(&wire, &mut Vec::new()).unwrap();
        assert!(client.filter().is_tls12_or_above() && !client.filter().enable_xtls());

        wire.clear();
        assert_eq!(
            client.write(&app_record(20), &mut rng, &mut wire),
            WriteMode::Plain
        );
        let mut inner = Vec::new();
        assert_eq!(server.read(&wire, &mut inner), Ok(ReadMode::Plain));
        assert_eq!(inner, app_record(20));
    }

    #[test]
    fn a_padded_stream_read_in_odd_pieces_gives_the_same_bytes() {
        let mut client = Vision::new(USER);
        let mut rng = counter();
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for i in 0..10u8 {
            let chunk = vec![i; 100 + usize::from(i) * 37];
            client.write(&chunk, &mut rng, &mut wire);
            sent.extend_from_slice(&chunk);
        }
        let mut server = Vision::new(USER);
        let mut inner = Vec::new();
        for piece in wire.chunks(7) {
            server.read(piece, &mut inner).unwrap();
        }
        assert_eq!(inner, sent);
        assert_eq!(server.read_mode(), ReadMode::Plain);
    }
}
