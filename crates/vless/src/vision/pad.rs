//! The sending side of Vision padding: wraps the first writes in frames and decides when to
//! stop padding and when to switch to direct copy.
//!
//! Mirrors Xray-core's `VisionWriter.WriteMultiBuffer`: a write is cut into buffers of at most
//! 8192 bytes, and buffers too large for a frame are split (preferably where a TLS
//! application-data record starts). While padding, every buffer becomes one frame; the first
//! complete inner TLS application-data record ends padding, with command direct when the
//! filter found TLS 1.3 (see `filter`), otherwise end. For traffic that is not TLS 1.2+,
//! padding ends when the filter is about to give up.

use super::filter::TlsFilter;
use super::frame::{
    encode_frame, padding_len, FrameCommand, PaddingSeed, BUFFER_SIZE, FRAME_OVERHEAD,
};

const TLS_APPLICATION_DATA_START: [u8; 3] = [0x17, 0x03, 0x03];
const TLS_RECORD_HEADER_LEN: usize = 5;

/// Where the writing side stands after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteMode {
    /// Later writes are padded too.
    Padded,
    /// Padding ended: later writes go through the outer TLS unchanged.
    Plain,
    /// Padding ended with command direct: send this write's output through the outer TLS,
    /// then write everything later straight to the socket, bypassing the outer TLS.
    Direct,
}

/// Wraps one direction's first writes in padding frames.
#[derive(Debug, Clone)]
pub struct Padder {
    user: Option<[u8; 16]>,
    padding: bool,
    mode: WriteMode,
    seed: PaddingSeed,
}

impl Padder {
    /// `user` is the id as the client sent it in the request header; it opens the first frame.
    pub fn new(user: [u8; 16], seed: PaddingSeed) -> Self {
        Padder {
            user: Some(user),
            padding: true,
            mode: WriteMode::Padded,
            seed,
        }
    }

    /// The mode after the last write.
    pub fn mode(&self) -> WriteMode {
        self.mode
    }

    /// Encodes `data` into `out`: framed while padding, unchanged afterwards.
    ///
    /// An empty `data` while padding writes one content-less frame with long padding (a client
    /// does this when it has nothing to send yet, to hide the request header's length).
    /// The filter sees the buffers first, as in Xray-core, so a ServerHello written here counts.
    pub fn write(
        &mut self,
        data: &[u8],
        filter: &mut TlsFilter,
        random_below: &mut impl FnMut(u32) -> u32,
        out: &mut Vec<u8>,
    ) -> WriteMode {
        // Once padding is over and the filter has decided, bytes pass as they are: splitting
        // them into Xray's buffers (a scan of every byte) would only cost time.
        if !self.padding && !filter.is_filtering() {
            out.extend_from_slice(data);
            return self.mode;
        }
        let buffers = split_buffers(data);
        if filter.is_filtering() {
            for buffer in &buffers {
                if filter.observe(buffer) {
                    break;
                }
            }
        }
        if !self.padding {
            out.extend_from_slice(data);
            return self.mode;
        }
        if data.is_empty() {
            self.frame(FrameCommand::Continue, &[], true, random_below, out);
            return self.mode;
        }
        let complete = is_complete_application_data(data);
        let mut long = filter.is_tls();
        let last = buffers.len() - 1;
        let end_command = if filter.enable_xtls() {
            FrameCommand::Direct
        } else {
            FrameCommand::End
        };
        for (i, buffer) in buffers.iter().enumerate() {
            if filter.is_tls()
                && buffer.len() >= 6
                && buffer[..3] == TLS_APPLICATION_DATA_START
                && complete
            {
                let command = if i == last {
                    end_command
                } else {
                    FrameCommand::Continue
                };
                self.frame(command, buffer, true, random_below, out);
                self.padding = false;
                long = false;
                if filter.enable_xtls() {
                    self.mode = WriteMode::Direct;
                }
                continue;
            }
            if !filter.is_tls12_or_above() && filter.packets_to_filter() <= 1 {
                // Xray-core ends one buffer early for older receivers; the rest goes unframed.
                self.padding = false;
                self.frame(FrameCommand::End, buffer, long, random_below, out);
                for rest in &buffers[i + 1..] {
                    out.extend_from_slice(rest);
                }
                break;
            }
            let command = if i == last && !self.padding {
                end_command
            } else {
                FrameCommand::Continue
            };
            self.frame(command, buffer, long, random_below, out);
        }
        if !self.padding && self.mode == WriteMode::Padded {
            self.mode = WriteMode::Plain;
        }
        self.mode
    }

    fn frame(
        &mut self,
        command: FrameCommand,
        content: &[u8],
        long: bool,
        random_below: &mut impl FnMut(u32) -> u32,
        out: &mut Vec<u8>,
    ) {
        let padding = padding_len(content.len(), long, &self.seed, random_below);
        let user = self.user.take();
        // Buffers are at most 8192 bytes (see `split_buffers`), so the length always fits.
        let _ = encode_frame(user.as_ref(), command, content, padding, out);
    }
}

/// Cuts a write into Xray-core's buffers: 8192-byte pieces, each too large for a frame split
/// once more where the last application-data record starts, or in the middle.
fn split_buffers(data: &[u8]) -> Vec<&[u8]> {
    let limit = BUFFER_SIZE - FRAME_OVERHEAD;
    let mut buffers = Vec::new();
    for piece in data.chunks(BUFFER_SIZE) {
        if piece.len() < limit {
            buffers.push(piece);
            continue;
        }
        let at = piece
            .windows(TLS_APPLICATION_DATA_START.len())
            .rposition(|w| w == TLS_APPLICATION_DATA_START)
            .filter(|at| (FRAME_OVERHEAD..=limit).contains(at))
            .unwrap_or(BUFFER_SIZE / 2);
        let (head, tail) = piece.split_at(at);
        buffers.push(head);
        buffers.push(tail);
    }
    buffers
}

/// Whether `data` is exactly a sequence of complete, non-empty TLS application-data records
/// (Xray-core's `IsCompleteRecord`).
fn is_complete_application_data(mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let Some(header) = data.get(..TLS_RECORD_HEADER_LEN) else {
            return false;
        };
        if header[..3] != TLS_APPLICATION_DATA_START {
            return false;
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len == 0 || data.len() < TLS_RECORD_HEADER_LEN + len {
            return false;
        }
        data = &data[TLS_RECORD_HEADER_LEN + len..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(len: usize) -> Vec<u8> {
        let mut r = vec![0x17, 0x03, 0x03, (len >> 8) as u8, len as u8];
        r.resize(5 + len, 0xee);
        r
    }

    #[test]
    fn complete_records_are_recognised() {
        let mut two = record(10);
        two.extend_from_slice(&record(3));
        assert!(is_complete_application_data(&two));
        assert!(!is_complete_application_data(&two[..two.len() - 1]));
        assert!(!is_complete_application_data(&record(0)));
        assert!(!is_complete_application_data(&[0x16, 3, 3, 0, 1, 0]));
    }

    #[test]
    fn large_writes_are_cut_where_the_last_record_starts() {
        let mut data = record(6000);
        data.extend_from_slice(&record(2180));
        let buffers = split_buffers(&data);
        assert_eq!(
            buffers.iter().map(|b| b.len()).collect::<Vec<_>>(),
            [6005, 2185]
        );
        let plain = vec![0u8; 20000];
        let sizes: Vec<_> = split_buffers(&plain).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [4096, 4096, 4096, 4096, 3616]);
    }

    #[test]
    fn the_first_frame_carries_the_user_id_and_later_ones_do_not() {
        let mut padder = Padder::new([3; 16], PaddingSeed::default());
        let mut filter = TlsFilter::default();
        let mut out = Vec::new();
        assert_eq!(
            padder.write(b"abc", &mut filter, &mut |_| 0, &mut out),
            WriteMode::Padded
        );
        assert_eq!(&out[..16], &[3; 16]);
        assert_eq!(&out[16..21], &[0, 0, 3, 0, 0]); // not TLS: short padding, random 0
        out.clear();
        padder.write(b"de", &mut filter, &mut |_| 0, &mut out);
        assert_eq!(out, [0, 0, 2, 0, 0, b'd', b'e']);
    }

    #[test]
    fn an_empty_first_write_is_a_long_padded_empty_frame() {
        let mut padder = Padder::new([3; 16], PaddingSeed::default());
        let mut out = Vec::new();
        padder.write(&[], &mut TlsFilter::default(), &mut |_| 0, &mut out);
        assert_eq!(out.len(), 16 + 5 + 900);
        assert_eq!(&out[16..21], &[0, 0, 0, 0x03, 0x84]);
    }

    #[test]
    fn non_tls_traffic_ends_padding_when_the_filter_gives_up() {
        let mut padder = Padder::new([3; 16], PaddingSeed::default());
        let mut filter = TlsFilter::default();
        let mut modes = Vec::new();
        for _ in 0..8 {
            modes.push(padder.write(b"plain", &mut filter, &mut |_| 0, &mut Vec::new()));
        }
        // The 7th write leaves one buffer to filter, so it is the last padded one.
        assert_eq!(modes[5], WriteMode::Padded);
        assert_eq!(modes[6], WriteMode::Plain);
        let mut out = Vec::new();
        padder.write(b"xyz", &mut filter, &mut |_| 0, &mut out);
        assert_eq!(out, b"xyz");
    }
}
