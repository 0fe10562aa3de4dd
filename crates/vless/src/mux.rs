//! Mux.Cool frames (VLESS command Mux) and their XUDP extension for UDP.
//!
//! Wire layout of one frame (big-endian), as Xray-core's `common/mux` and `common/xudp` use it:
//!
//! ```text
//! metadata len: u16           at most 512
//! metadata:
//!   session id: u16
//!   status:     u8            1 = New, 2 = Keep, 3 = End, 4 = KeepAlive
//!   option:     u8            bit 0x01 = Data follows, bit 0x02 = Error (on End)
//!   New:        network u8 (1 = TCP, 2 = UDP), port u16, address (type u8 + address)
//!               then, for UDP with Data, an optional 8-byte XUDP global id
//!   Keep:       optionally network u8 = 2 (UDP), port u16, address: the datagram's peer
//!   (anything left in the metadata is padding and ignored)
//! if option has Data:
//!   data len:   u16
//!   data:       [u8; data len]    a stream chunk (TCP) or exactly one datagram (UDP)
//! ```
//!
//! The address uses the same port-first layout as the VLESS request (see `address`). An XUDP
//! global id of all zeros means "none", as in Xray-core; a non-zero id lets a client keep the
//! same UDP mapping (full-cone NAT) across Mux connections.

use crate::address::{self, AddressError, Destination};
use crate::parse::{finish, Parse, Reader, Stop};

/// Xray-core refuses metadata longer than this.
pub const MAX_METADATA_LEN: u16 = 512;

const STATUS_NEW: u8 = 1;
const STATUS_KEEP: u8 = 2;
const STATUS_END: u8 = 3;
const STATUS_KEEP_ALIVE: u8 = 4;
const OPTION_DATA: u8 = 0x01;
const OPTION_ERROR: u8 = 0x02;
const NETWORK_TCP: u8 = 1;
const NETWORK_UDP: u8 = 2;

/// The transport a Mux session carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    Tcp,
    Udp,
}

/// Where a new session goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub network: Network,
    pub destination: Destination,
}

/// An XUDP global id: the client's stable name for one UDP source, never all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalId(pub [u8; 8]);

impl std::fmt::Debug for GlobalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // It identifies a client's UDP source, so it stays out of logs too.
        f.write_str("GlobalId(<redacted>)")
    }
}

/// What a frame does to its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Opens a session. `global_id` is only carried for UDP frames with data.
    New {
        target: Target,
        global_id: Option<GlobalId>,
    },
    /// Data for an open session; for XUDP, the datagram's peer (destination from the client,
    /// source when the server answers). Only UDP addresses are carried in Keep frames.
    Keep { udp_peer: Option<Destination> },
    /// Closes a session.
    End,
    /// Keeps the Mux connection alive; any data is to be discarded.
    KeepAlive,
}

/// One decoded Mux.Cool frame, borrowing its data from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub session_id: u16,
    pub status: Status,
    /// The Error option: the session ended because of an error.
    pub error: bool,
    /// The frame's data, present when the Data option is set.
    pub data: Option<&'a [u8]>,
}

/// Why bytes are not a Mux.Cool frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MuxError {
    #[error("Mux metadata of {0} bytes exceeds the limit")]
    MetadataTooLong(u16),
    #[error("Mux metadata is shorter than its fields")]
    MetadataTooShort,
    #[error("unknown Mux session status {0}")]
    UnknownStatus(u8),
    #[error("unknown Mux network {0}")]
    UnknownNetwork(u8),
    #[error(transparent)]
    Address(#[from] AddressError),
}

/// A frame's data does not fit the two-byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Mux frame data of {0} bytes exceeds 65535")]
pub struct DataTooLarge(pub usize);

/// Decodes one frame from the start of `buf`; `Done { value: frame, consumed }` leaves the next frame unread.
pub fn decode_frame(buf: &[u8]) -> Result<Parse<Frame<'_>>, MuxError> {
    finish(read_frame(&mut Reader::new(buf)))
}

fn read_frame<'a>(reader: &mut Reader<'a>) -> Result<(Frame<'a>, usize), Stop<MuxError>> {
    let metadata_len = reader.u16()?;
    if metadata_len > MAX_METADATA_LEN {
        return Err(Stop::Invalid(MuxError::MetadataTooLong(metadata_len)));
    }
    let metadata = reader.take(usize::from(metadata_len))?;
    let (session_id, status, option) = read_metadata(metadata).map_err(Stop::Invalid)?;
    let data = if option & OPTION_DATA != 0 {
        let len = reader.u16()?;
        Some(reader.take(usize::from(len))?)
    } else {
        None
    };
    let frame = Frame {
        session_id,
        status,
        error: option & OPTION_ERROR != 0,
        data,
    };
    Ok((frame, reader.position()))
}

/// Reads complete metadata: running out of bytes inside it is an error, not "need more".
fn read_metadata(metadata: &[u8]) -> Result<(u16, Status, u8), MuxError> {
    let short = |stop: Stop<AddressError>| match stop {
        Stop::Incomplete => MuxError::MetadataTooShort,
        Stop::Invalid(e) => MuxError::Address(e),
    };
    let mut reader = Reader::new(metadata);
    let session_id = reader.u16().map_err(short)?;
    let status = reader.u8().map_err(short)?;
    let option = reader.u8().map_err(short)?;
    let status = match status {
        STATUS_NEW => {
            let network = match reader.u8().map_err(short)? {
                NETWORK_TCP => Network::Tcp,
                NETWORK_UDP => Network::Udp,
                other => return Err(MuxError::UnknownNetwork(other)),
            };
            let destination = address::read_destination(&mut reader).map_err(short)?;
            let global_id = if network == Network::Udp && option & OPTION_DATA != 0 {
                reader
                    .array::<8, AddressError>()
                    .ok()
                    .filter(|id| *id != [0; 8])
                    .map(GlobalId)
            } else {
                None
            };
            Status::New {
                target: Target {
                    network,
                    destination,
                },
                global_id,
            }
        }
        STATUS_KEEP => {
            let udp_peer = if metadata.get(4) == Some(&NETWORK_UDP) {
                reader.u8().map_err(short)?;
                Some(address::read_destination(&mut reader).map_err(short)?)
            } else {
                None
            };
            Status::Keep { udp_peer }
        }
        STATUS_END => Status::End,
        STATUS_KEEP_ALIVE => Status::KeepAlive,
        other => return Err(MuxError::UnknownStatus(other)),
    };
    Ok((session_id, status, option))
}

/// Appends one encoded frame to `out` (nothing is appended on error).
///
/// A `global_id` is written only for UDP targets and a Keep `udp_peer` always as UDP.
///
/// # Panics
/// If an address is a domain longer than 255 bytes, which [`crate::Address::domain`] refuses
/// and no decoder produces.
pub fn encode_frame(frame: &Frame<'_>, out: &mut Vec<u8>) -> Result<(), DataTooLarge> {
    let data_len = match frame.data {
        Some(data) => Some(u16::try_from(data.len()).map_err(|_| DataTooLarge(data.len()))?),
        None => None,
    };
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&frame.session_id.to_be_bytes());
    let status = match frame.status {
        Status::New { .. } => STATUS_NEW,
        Status::Keep { .. } => STATUS_KEEP,
        Status::End => STATUS_END,
        Status::KeepAlive => STATUS_KEEP_ALIVE,
    };
    let mut option = 0;
    if data_len.is_some() {
        option |= OPTION_DATA;
    }
    if frame.error {
        option |= OPTION_ERROR;
    }
    out.extend_from_slice(&[status, option]);
    match &frame.status {
        Status::New { target, global_id } => {
            out.push(match target.network {
                Network::Tcp => NETWORK_TCP,
                Network::Udp => NETWORK_UDP,
            });
            address::write_destination(&target.destination, out);
            if let (Network::Udp, Some(id)) = (target.network, global_id) {
                out.extend_from_slice(&id.0);
            }
        }
        Status::Keep {
            udp_peer: Some(peer),
        } => {
            out.push(NETWORK_UDP);
            address::write_destination(peer, out);
        }
        Status::Keep { udp_peer: None } | Status::End | Status::KeepAlive => {}
    }
    // At most 4 + 1 + 2 + 257 + 8 = 272 bytes, well under the 512 limit.
    let metadata_len = (out.len() - len_at - 2) as u16;
    out[len_at..len_at + 2].copy_from_slice(&metadata_len.to_be_bytes());
    if let (Some(len), Some(data)) = (data_len, frame.data) {
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(data);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Address;
    use std::net::Ipv4Addr;

    fn dest(port: u16) -> Destination {
        Destination {
            address: Address::Ipv4(Ipv4Addr::new(10, 0, 0, 1)),
            port,
        }
    }

    /// `frame` encoded, after checking it decodes back to itself from exactly those bytes.
    fn round_trip(frame: &Frame<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(frame, &mut out).unwrap();
        assert_eq!(
            decode_frame(&out),
            Ok(Parse::Done {
                value: frame.clone(),
                consumed: out.len()
            })
        );
        out
    }

    /// The frame `bytes` hold, all of them.
    fn decoded_whole(bytes: &[u8]) -> Frame<'_> {
        let Ok(Parse::Done { value, consumed }) = decode_frame(bytes) else {
            panic!("not one whole frame")
        };
        assert_eq!(consumed, bytes.len());
        value
    }

    #[test]
    fn a_new_tcp_frame_with_data_matches_the_xray_layout() {
        let frame = Frame {
            session_id: 7,
            status: Status::New {
                target: Target {
                    network: Network::Tcp,
                    destination: dest(80),
                },
                global_id: None,
            },
            error: false,
            data: Some(b"hi"),
        };
        assert_eq!(
            round_trip(&frame),
            [0, 12, 0, 7, 1, 1, 1, 0, 80, 1, 10, 0, 0, 1, 0, 2, b'h', b'i']
        );
    }

    #[test]
    fn an_xudp_new_frame_carries_the_global_id_after_the_address() {
        let bytes = [
            0, 20, 0, 1, 1, 1, 2, 0, 53, 1, 10, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0xaa,
        ];
        let frame = decoded_whole(&bytes);
        assert_eq!(
            frame.status,
            Status::New {
                target: Target {
                    network: Network::Udp,
                    destination: dest(53)
                },
                global_id: Some(GlobalId([1, 2, 3, 4, 5, 6, 7, 8])),
            }
        );
        assert_eq!(frame.data, Some(&[0xaa][..]));
    }

    #[test]
    fn an_all_zero_global_id_means_none() {
        let bytes = [
            0, 20, 0, 1, 1, 1, 2, 0, 53, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let frame = decoded_whole(&bytes);
        assert!(matches!(
            frame.status,
            Status::New {
                global_id: None,
                ..
            }
        ));
    }

    #[test]
    fn an_xudp_keep_frame_carries_the_peer_of_each_datagram() {
        let frame = Frame {
            session_id: 1,
            status: Status::Keep {
                udp_peer: Some(dest(5353)),
            },
            error: false,
            data: Some(&[1, 2, 3]),
        };
        let out = round_trip(&frame);
        assert_eq!(&out[..12], &[0, 12, 0, 1, 2, 1, 2, 0x14, 0xe9, 1, 10, 0]);
    }

    #[test]
    fn a_plain_keep_frame_has_no_peer() {
        let bytes = [0, 4, 0, 9, 2, 1, 0, 1, b'x'];
        let want = Frame {
            session_id: 9,
            status: Status::Keep { udp_peer: None },
            error: false,
            data: Some(b"x"),
        };
        assert_eq!(
            decode_frame(&bytes),
            Ok(Parse::Done {
                value: want,
                consumed: bytes.len()
            })
        );
    }

    #[test]
    fn an_end_frame_with_error_and_trailing_padding_decodes() {
        let bytes = [0, 6, 0, 3, 3, 2, 0, 0, 0xff];
        let want = Frame {
            session_id: 3,
            status: Status::End,
            error: true,
            data: None,
        };
        assert_eq!(
            decode_frame(&bytes),
            Ok(Parse::Done {
                value: want,
                consumed: 8
            })
        );
    }

    #[test]
    fn every_strict_prefix_of_a_frame_needs_more() {
        let bytes = [
            0, 12, 0, 7, 1, 1, 1, 0, 80, 1, 10, 0, 0, 1, 0, 2, b'h', b'i',
        ];
        for end in 0..bytes.len() {
            assert_eq!(
                decode_frame(&bytes[..end]),
                Ok(Parse::NeedMore),
                "prefix {end}"
            );
        }
    }

    #[test]
    fn metadata_over_512_bytes_is_refused_before_it_arrives() {
        assert_eq!(
            decode_frame(&[0x02, 0x01]),
            Err(MuxError::MetadataTooLong(513))
        );
    }

    #[test]
    fn an_address_cut_short_inside_complete_metadata_is_an_error() {
        assert_eq!(
            decode_frame(&[0, 7, 0, 1, 1, 0, 1, 0, 80]),
            Err(MuxError::MetadataTooShort)
        );
        assert_eq!(decode_frame(&[0, 2, 0, 1]), Err(MuxError::MetadataTooShort));
    }

    #[test]
    fn unknown_status_network_and_address_type_are_refused() {
        assert_eq!(
            decode_frame(&[0, 4, 0, 1, 5, 0]),
            Err(MuxError::UnknownStatus(5))
        );
        assert_eq!(
            decode_frame(&[0, 9, 0, 1, 1, 0, 3, 0, 80, 1, 1]),
            Err(MuxError::UnknownNetwork(3))
        );
        assert_eq!(
            decode_frame(&[0, 8, 0, 1, 1, 0, 1, 0, 80, 7]),
            Err(MuxError::Address(AddressError::UnknownAddressType(7)))
        );
    }

    #[test]
    fn data_over_64k_is_refused_without_writing() {
        let big = vec![0; 65536];
        let frame = Frame {
            session_id: 1,
            status: Status::Keep { udp_peer: None },
            error: false,
            data: Some(&big),
        };
        let mut out = vec![9];
        assert_eq!(encode_frame(&frame, &mut out), Err(DataTooLarge(65536)));
        assert_eq!(out, [9]);
    }

    #[test]
    fn a_global_id_is_not_written_for_tcp() {
        let frame = Frame {
            session_id: 1,
            status: Status::New {
                target: Target {
                    network: Network::Tcp,
                    destination: dest(1),
                },
                global_id: Some(GlobalId([1; 8])),
            },
            error: false,
            data: None,
        };
        let mut out = Vec::new();
        encode_frame(&frame, &mut out).unwrap();
        assert_eq!(out.len(), 2 + 4 + 1 + 2 + 5);
    }
}
