//! The record layer after the handshake: application data both ways, one record at a time,
//! with the raw bytes it has not decrypted yet available for XTLS Vision's direct copy.

use std::ops::Range;

use crate::protect::Protector;
use crate::record::{complete_record_len, ContentType, MAX_PLAINTEXT};
use crate::suite::CipherSuite;
use crate::TlsError;

const KEY_UPDATE: u8 = 24;
const CLOSE_NOTIFY: u8 = 0;

/// What one call of [`RecordLayer::read`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// No complete record is buffered; feed more bytes.
    NeedMore,
    /// One application-data record: this many plaintext bytes were appended (may be 0).
    Data(usize),
    /// One record that carried no application data (a session ticket, a late
    /// ChangeCipherSpec) was consumed.
    Other,
    /// The peer sent close_notify: no more data will come.
    Closed,
}

/// One direction's keys as another TLS 1.3 implementation hands them over after its handshake
/// (rustls's extracted secrets): the AEAD key, the IV, and the sequence number of the next
/// record.
pub struct TrafficKeys {
    pub key: Vec<u8>,
    pub iv: [u8; 12],
    pub seq: u64,
}

/// Keys are secrets: `{:?}` shows only the sequence number.
impl std::fmt::Debug for TrafficKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrafficKeys")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// An established TLS 1.3 connection's record protection.
///
/// Reading decrypts exactly one record per call, so the caller can stop at the record in
/// which XTLS Vision switches to direct copy and take the rest with
/// [`RecordLayer::take_buffered`], byte for byte as it came from the socket.
///
/// Received bytes can be read straight into the layer's input ([`RecordLayer::room`],
/// [`RecordLayer::filled`]), and a record's plaintext stays where it was decrypted until it is
/// handed on ([`RecordLayer::open`], [`RecordLayer::plaintext`], [`RecordLayer::consume`]):
/// no copy but the one out of it. [`RecordLayer::feed`] and [`RecordLayer::read`] do the same
/// through caller-owned buffers.
#[derive(Debug)]
pub struct RecordLayer {
    tx: Protector,
    rx: Protector,
    /// `input[start..end]` is received and not yet decrypted; past `end` is room.
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// The opened record's plaintext not yet handed on, inside `input` before `start`.
    plain: Range<usize>,
    peer_closed: bool,
}

impl RecordLayer {
    pub(crate) fn new(tx: Protector, rx: Protector, leftover: Vec<u8>) -> RecordLayer {
        RecordLayer {
            tx,
            rx,
            end: leftover.len(),
            input: leftover,
            start: 0,
            plain: 0..0,
            peer_closed: false,
        }
    }

    /// The record layer of a TLS 1.3 connection whose handshake another implementation ran
    /// (the node's TLS security: rustls, then this layer for application data). `leftover` is
    /// what was received after the handshake and not yet decrypted.
    pub fn from_keys(
        suite: CipherSuite,
        tx: TrafficKeys,
        rx: TrafficKeys,
        leftover: Vec<u8>,
    ) -> Result<RecordLayer, TlsError> {
        Ok(RecordLayer::new(
            Protector::from_key(suite, &tx.key, tx.iv, tx.seq)?,
            Protector::from_key(suite, &rx.key, rx.iv, rx.seq)?,
            leftover,
        ))
    }

    /// Space for at least `want` more received bytes, to read the socket into; tell
    /// [`RecordLayer::filled`] how many arrived. Call it with no plaintext pending.
    pub fn room(&mut self, want: usize) -> &mut [u8] {
        let short = self.input.len() - self.end < want;
        if self.plain.is_empty() && self.start > 0 && (self.start == self.end || short) {
            // Whatever was consumed goes; what is left (a partial record) moves to the front.
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.plain = 0..0;
        }
        if self.input.len() < self.end + want {
            self.input.resize(self.end + want, 0);
        }
        &mut self.input[self.end..]
    }

    /// `n` bytes were received into [`RecordLayer::room`].
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.input.len());
    }

    /// Buffers bytes received from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.room(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// Decrypts at most one buffered record. Its application data, if any, stays in place as
    /// [`RecordLayer::plaintext`] until [`RecordLayer::consume`]d (opening the next record
    /// drops what is left of it).
    pub fn open(&mut self) -> Result<Received, TlsError> {
        self.plain = 0..0;
        if self.peer_closed {
            return Ok(Received::Closed);
        }
        let buf = &mut self.input[self.start..self.end];
        let Some(len) = complete_record_len(buf)? else {
            return Ok(Received::NeedMore);
        };
        let record = &mut buf[..len];
        if record[0] == ContentType::ChangeCipherSpec as u8 && record[5..] == [1] {
            // A middlebox-compatibility CCS may arrive late; it carries nothing.
            self.start += len;
            return Ok(Received::Other);
        }
        let (kind, range) = self.rx.open(record)?;
        let received = match kind {
            ContentType::ApplicationData => {
                self.plain = self.start + range.start..self.start + range.end;
                Received::Data(range.len())
            }
            ContentType::Alert => {
                let alert = &record[range];
                if alert.len() != 2 {
                    return Err(TlsError::UnexpectedRecord(ContentType::Alert as u8));
                }
                if alert[1] != CLOSE_NOTIFY {
                    return Err(TlsError::Alert(alert[1]));
                }
                self.peer_closed = true;
                Received::Closed
            }
            ContentType::Handshake => {
                // NewSessionTicket is ignored (we never resume); KeyUpdate would change keys.
                if record[range].first() == Some(&KEY_UPDATE) {
                    return Err(TlsError::KeyUpdate);
                }
                Received::Other
            }
            ContentType::ChangeCipherSpec => {
                return Err(TlsError::UnexpectedRecord(
                    ContentType::ChangeCipherSpec as u8,
                ))
            }
        };
        self.start += len;
        Ok(received)
    }

    /// The opened record's application data not yet handed on.
    pub fn plaintext(&self) -> &[u8] {
        &self.input[self.plain.clone()]
    }

    /// `n` bytes of [`RecordLayer::plaintext`] were handed on.
    pub fn consume(&mut self, n: usize) {
        self.plain.start = (self.plain.start + n).min(self.plain.end);
    }

    /// Decrypts at most one buffered record, appending its application data to `out`.
    pub fn read(&mut self, out: &mut Vec<u8>) -> Result<Received, TlsError> {
        let received = self.open()?;
        out.extend_from_slice(self.plaintext());
        self.plain = 0..0;
        Ok(received)
    }

    /// Protects `data` as application-data records appended to `out`.
    pub fn write(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError> {
        for chunk in data.chunks(MAX_PLAINTEXT) {
            self.tx.seal(ContentType::ApplicationData, chunk, 0, out)?;
        }
        Ok(())
    }

    /// Like [`RecordLayer::write`] for one record padded (inside the encryption) to
    /// `record_len` bytes on the wire when that is possible; used to shape the first
    /// records like `dest`'s.
    pub fn write_padded(
        &mut self,
        data: &[u8],
        record_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        let bare = crate::record::RECORD_HEADER_LEN + data.len() + 1 + crate::protect::TAG_LEN;
        if data.len() > MAX_PLAINTEXT || bare > record_len {
            return self.write(data, out);
        }
        self.tx
            .seal(ContentType::ApplicationData, data, record_len - bare, out)
    }

    /// Appends a close_notify alert: we send no more data.
    pub fn write_close_notify(&mut self, out: &mut Vec<u8>) -> Result<(), TlsError> {
        self.tx.seal(ContentType::Alert, &[1, CLOSE_NOTIFY], 0, out)
    }

    /// Gives up the input buffer when everything in it has been decrypted and handed on, so
    /// a connection waiting for its peer holds none; the caller may reuse it elsewhere
    /// ([`RecordLayer::lend_input`]). Its contents are stale and never read again.
    pub fn release_if_empty(&mut self) -> Option<Vec<u8>> {
        if self.start < self.end || !self.plain.is_empty() || !self.holds_input_buffer() {
            return None;
        }
        self.start = 0;
        self.end = 0;
        self.plain = 0..0;
        Some(std::mem::take(&mut self.input))
    }

    /// Hands the layer a buffer to receive into while it holds none (one given up by
    /// another connection's [`RecordLayer::release_if_empty`]): its length is kept as room,
    /// so [`RecordLayer::room`] need not zero it again. Ignored while the layer holds one.
    pub fn lend_input(&mut self, buffer: Vec<u8>) {
        if !self.holds_input_buffer() {
            self.input = buffer;
            self.start = 0;
            self.end = 0;
            self.plain = 0..0;
        }
    }

    /// Whether an input buffer is allocated (after [`RecordLayer::release_if_empty`] with
    /// nothing left to decrypt, none is).
    pub fn holds_input_buffer(&self) -> bool {
        self.input.capacity() > 0
    }

    /// How many received bytes are buffered and not yet decrypted.
    pub fn buffered_len(&self) -> usize {
        self.end - self.start
    }

    /// Takes the received bytes not yet decrypted, exactly as they came from the socket
    /// (take the [`RecordLayer::plaintext`] first: it goes too).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.input[self.start..self.end].to_vec();
        self.input = Vec::new();
        self.start = 0;
        self.end = 0;
        self.plain = 0..0;
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::CipherSuite;

    fn pair() -> (RecordLayer, RecordLayer) {
        let s = CipherSuite::Aes128GcmSha256;
        let a = RecordLayer::new(
            Protector::new(s, &[1; 32]),
            Protector::new(s, &[2; 32]),
            Vec::new(),
        );
        let b = RecordLayer::new(
            Protector::new(s, &[2; 32]),
            Protector::new(s, &[1; 32]),
            Vec::new(),
        );
        (a, b)
    }

    #[test]
    fn data_larger_than_a_record_arrives_whole_through_byte_sized_feeds() {
        let (mut a, mut b) = pair();
        let data: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        a.write(&data, &mut wire).unwrap();
        let mut got = Vec::new();
        for byte in &wire {
            b.feed(std::slice::from_ref(byte));
            while let Received::Data(_) | Received::Other = b.read(&mut got).unwrap() {}
        }
        assert_eq!(got, data);
        assert_eq!(b.buffered_len(), 0);
    }

    #[test]
    fn bytes_after_the_last_read_record_are_handed_back_untouched() {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write(b"first", &mut wire).unwrap();
        let raw_tail = b"\x17\x03\x03raw inner bytes that are not outer records".to_vec();
        wire.extend_from_slice(&raw_tail);
        b.feed(&wire);
        let mut got = Vec::new();
        assert_eq!(b.read(&mut got).unwrap(), Received::Data(5));
        assert_eq!(b.take_buffered(), raw_tail);
        assert_eq!(b.buffered_len(), 0);
    }

    #[test]
    fn records_read_into_the_layers_room_are_handed_on_in_place_in_any_pieces() {
        let (mut a, mut b) = pair();
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
        let mut wire = Vec::new();
        a.write(&data, &mut wire).unwrap();
        let mut got = Vec::new();
        let mut sent = 0;
        while got.len() < data.len() {
            match b.open().unwrap() {
                Received::Data(_) => {
                    // The reader takes 1000 bytes at a time.
                    while !b.plaintext().is_empty() {
                        let n = b.plaintext().len().min(1000);
                        got.extend_from_slice(&b.plaintext()[..n]);
                        b.consume(n);
                    }
                }
                Received::Other => {}
                Received::NeedMore => {
                    // The socket gives 5000 bytes at a time.
                    let n = (wire.len() - sent).min(5000);
                    b.room(5000)[..n].copy_from_slice(&wire[sent..sent + n]);
                    b.filled(n);
                    sent += n;
                }
                Received::Closed => unreachable!(),
            }
        }
        assert_eq!(got, data);
        assert_eq!(b.buffered_len(), 0);
        assert!(b.release_if_empty().is_some());
        assert!(!b.holds_input_buffer());
        assert!(b.release_if_empty().is_none(), "nothing is left to give up");
    }

    #[test]
    fn the_input_is_kept_while_plaintext_is_pending() {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write(b"pending", &mut wire).unwrap();
        b.feed(&wire);
        assert_eq!(b.open().unwrap(), Received::Data(7));
        assert!(b.release_if_empty().is_none());
        assert_eq!(b.plaintext(), b"pending");
        b.consume(7);
        assert!(b.release_if_empty().is_some());
        assert!(!b.holds_input_buffer());
    }

    #[test]
    fn a_lent_buffer_is_room_and_its_stale_bytes_are_never_read() {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write(b"fresh", &mut wire).unwrap();
        let stale = vec![0xAA; 32 * 1024];
        b.lend_input(stale);
        assert!(b.holds_input_buffer());
        assert_eq!(
            b.open().unwrap(),
            Received::NeedMore,
            "a lent buffer holds nothing"
        );
        let n = wire.len();
        b.room(n)[..n].copy_from_slice(&wire);
        b.filled(n);
        assert_eq!(b.open().unwrap(), Received::Data(5));
        assert_eq!(b.plaintext(), b"fresh");
        b.consume(5);
        let back = b.release_if_empty().unwrap();
        assert_eq!(
            back.len(),
            32 * 1024,
            "its length stays, so it is not zeroed again"
        );
    }

    #[test]
    fn close_notify_is_reported_as_closed() {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write_close_notify(&mut wire).unwrap();
        b.feed(&wire);
        assert_eq!(b.read(&mut Vec::new()).unwrap(), Received::Closed);
    }

    #[test]
    fn a_padded_record_has_the_requested_length_and_the_same_data() {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write_padded(b"abc", 300, &mut wire).unwrap();
        assert_eq!(wire.len(), 300);
        b.feed(&wire);
        let mut got = Vec::new();
        assert_eq!(b.read(&mut got).unwrap(), Received::Data(3));
        assert_eq!(got, b"abc");
    }
}
