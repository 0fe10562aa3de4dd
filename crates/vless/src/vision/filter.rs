//! Recognises the inner TLS handshake in the first packets of a Vision connection.
//!
//! Mirrors Xray-core's `XtlsFilterTls`: both directions feed it their first plaintext buffers
//! (at most 8 in all). A ClientHello marks the inner traffic as TLS; a ServerHello gives the
//! cipher suite, and its `supported_versions` extension selecting TLS 1.3 decides whether the
//! connection may switch to direct copy (any TLS 1.3 suite except `TLS_AES_128_CCM_8_SHA256`).

/// How many buffers Xray-core inspects before giving up.
pub const PACKETS_TO_FILTER: i32 = 8;

const TLS_SERVER_HANDSHAKE_START: [u8; 3] = [0x16, 0x03, 0x03];
const TLS_CLIENT_HANDSHAKE_START: [u8; 2] = [0x16, 0x03];
const HANDSHAKE_CLIENT_HELLO: u8 = 0x01;
const HANDSHAKE_SERVER_HELLO: u8 = 0x02;
/// The `supported_versions` extension of a ServerHello choosing TLS 1.3.
const TLS13_SUPPORTED_VERSIONS: [u8; 6] = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
/// Offset of the session id length in a ServerHello record: record header 5, handshake
/// header 4, version 2, random 32.
const SESSION_ID_LEN_AT: usize = 43;
const SHORTEST_SERVER_HELLO: usize = 79;
const TLS13_CIPHERS_ALLOWING_DIRECT: [u16; 4] = [0x1301, 0x1302, 0x1303, 0x1304];

/// What the filter has learned about the inner traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFilter {
    packets_to_filter: i32,
    is_tls: bool,
    is_tls12_or_above: bool,
    cipher: u16,
    remaining_server_hello: i32,
    enable_xtls: bool,
}

impl Default for TlsFilter {
    fn default() -> Self {
        TlsFilter {
            packets_to_filter: PACKETS_TO_FILTER,
            is_tls: false,
            is_tls12_or_above: false,
            cipher: 0,
            remaining_server_hello: -1,
            enable_xtls: false,
        }
    }
}

impl TlsFilter {
    /// Whether buffers should still be shown to [`TlsFilter::observe`].
    pub fn is_filtering(&self) -> bool {
        self.packets_to_filter > 0
    }

    /// How many more buffers the filter looks at (may go below zero, as in Xray-core).
    pub fn packets_to_filter(&self) -> i32 {
        self.packets_to_filter
    }

    /// A TLS ClientHello or ServerHello was seen.
    pub fn is_tls(&self) -> bool {
        self.is_tls
    }

    /// A ServerHello of TLS 1.2 or later was seen.
    pub fn is_tls12_or_above(&self) -> bool {
        self.is_tls12_or_above
    }

    /// The cipher suite the inner ServerHello chose (0 if unknown).
    pub fn cipher(&self) -> u16 {
        self.cipher
    }

    /// The inner TLS is 1.3 with a suite that allows switching to direct copy.
    pub fn enable_xtls(&self) -> bool {
        self.enable_xtls
    }

    /// Looks at one plaintext buffer, as Xray-core looks at one `buf.Buffer` (at most 8192
    /// bytes). Returns true once the filter has concluded and stops looking.
    pub fn observe(&mut self, buffer: &[u8]) -> bool {
        self.packets_to_filter -= 1;
        if buffer.len() >= 6 {
            if buffer[..3] == TLS_SERVER_HANDSHAKE_START && buffer[5] == HANDSHAKE_SERVER_HELLO {
                self.remaining_server_hello =
                    (i32::from(buffer[3]) << 8 | i32::from(buffer[4])) + 5;
                self.is_tls12_or_above = true;
                self.is_tls = true;
                if buffer.len() >= SHORTEST_SERVER_HELLO
                    && self.remaining_server_hello >= SHORTEST_SERVER_HELLO as i32
                {
                    let suite_at = SESSION_ID_LEN_AT + 1 + usize::from(buffer[SESSION_ID_LEN_AT]);
                    if let Some(suite) = buffer.get(suite_at..suite_at + 2) {
                        self.cipher = u16::from_be_bytes([suite[0], suite[1]]);
                    }
                }
            } else if buffer[..2] == TLS_CLIENT_HANDSHAKE_START
                && buffer[5] == HANDSHAKE_CLIENT_HELLO
            {
                self.is_tls = true;
            }
        }
        if self.remaining_server_hello > 0 {
            let end = usize::try_from(self.remaining_server_hello)
                .unwrap_or(0)
                .min(buffer.len());
            self.remaining_server_hello = self
                .remaining_server_hello
                .saturating_sub(i32::try_from(buffer.len()).unwrap_or(i32::MAX));
            if buffer[..end]
                .windows(TLS13_SUPPORTED_VERSIONS.len())
                .any(|w| w == TLS13_SUPPORTED_VERSIONS)
            {
                self.enable_xtls = TLS13_CIPHERS_ALLOWING_DIRECT.contains(&self.cipher);
                self.packets_to_filter = 0;
                return true;
            }
            if self.remaining_server_hello <= 0 {
                // A complete ServerHello without TLS 1.3: TLS 1.2.
                self.packets_to_filter = 0;
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A TLS 1.3 ServerHello record built from RFC 8446 §4.1.3, with the given cipher suite and
    /// optionally the `supported_versions` extension.
    pub(crate) fn server_hello(cipher: u16, tls13: bool) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x5a; 32]); // random
        body.push(32);
        body.extend_from_slice(&[0x11; 32]); // legacy session id
        body.extend_from_slice(&cipher.to_be_bytes());
        body.push(0); // compression
        let mut extensions = Vec::new();
        if tls13 {
            extensions.extend_from_slice(&TLS13_SUPPORTED_VERSIONS);
        }
        extensions.extend_from_slice(&[0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]); // key_share x25519
        extensions.extend_from_slice(&[0x77; 32]);
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(&extensions);
        let mut handshake = vec![
            HANDSHAKE_SERVER_HELLO,
            0,
            (body.len() >> 8) as u8,
            body.len() as u8,
        ];
        handshake.extend_from_slice(&body);
        let mut record = vec![
            0x16,
            0x03,
            0x03,
            (handshake.len() >> 8) as u8,
            handshake.len() as u8,
        ];
        record.extend_from_slice(&handshake);
        record
    }

    pub(crate) fn client_hello() -> Vec<u8> {
        let mut record = vec![
            0x16,
            0x03,
            0x01,
            0x00,
            0x30,
            HANDSHAKE_CLIENT_HELLO,
            0,
            0,
            0x2c,
            0x03,
            0x03,
        ];
        record.resize(5 + 0x30, 0x42);
        record
    }

    #[test]
    fn a_tls13_server_hello_with_aes_gcm_enables_direct_copy() {
        let mut filter = TlsFilter::default();
        assert!(!filter.observe(&client_hello()));
        assert!(filter.is_tls());
        assert!(filter.observe(&server_hello(0x1301, true)));
        assert_eq!(filter.cipher(), 0x1301);
        assert!(filter.enable_xtls() && filter.is_tls12_or_above() && !filter.is_filtering());
    }

    #[test]
    fn ccm8_is_tls13_but_never_direct() {
        let mut filter = TlsFilter::default();
        assert!(filter.observe(&server_hello(0x1305, true)));
        assert!(!filter.enable_xtls());
    }

    #[test]
    fn a_complete_server_hello_without_tls13_means_tls12() {
        let mut filter = TlsFilter::default();
        assert!(filter.observe(&server_hello(0xc02f, false)));
        assert!(filter.is_tls12_or_above() && !filter.enable_xtls() && !filter.is_filtering());
    }

    #[test]
    fn a_server_hello_split_across_buffers_is_followed_to_its_end() {
        let hello = server_hello(0x1302, true);
        let (head, tail) = hello.split_at(80);
        let mut filter = TlsFilter::default();
        assert!(!filter.observe(head));
        assert!(filter.is_filtering());
        assert!(filter.observe(tail));
        assert!(filter.enable_xtls());
    }

    #[test]
    fn non_tls_traffic_stops_being_filtered_after_eight_buffers() {
        let mut filter = TlsFilter::default();
        for _ in 0..8 {
            assert!(!filter.observe(b"GET / HTTP/1.1\r\n"));
        }
        assert!(!filter.is_filtering() && !filter.is_tls());
    }

    #[test]
    fn a_server_hello_with_a_session_id_past_the_buffer_leaves_the_cipher_unknown() {
        let mut hello = server_hello(0x1301, true);
        hello[SESSION_ID_LEN_AT] = 0xff;
        let mut filter = TlsFilter::default();
        filter.observe(&hello[..100]);
        assert_eq!(filter.cipher(), 0);
    }
}
