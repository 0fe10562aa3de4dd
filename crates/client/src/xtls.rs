//! Relaying over a REALITY connection: the record layer on the raw socket, with XTLS Vision
//! (`flow=xtls-rprx-vision`) when the link asks, including Vision's switch to direct copy.
//!
//! Each direction runs on its own; they share the record layer and the Vision state behind a
//! mutex that is never held across an await. On Linux a direction in direct copy moves the
//! rest of its bytes with splice(2) (crate `splice-copy`) once nothing is held above the sockets.
//! Written for either end of the tunnel ([`Role`]), so tests can play the node with the same
//! loop around the reality crate's server engine.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reality::{Received, RecordLayer, Rng, SystemRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vless::vision::{ReadMode, Vision, WriteMode};
use vless::Parse;

/// How long the first write waits for the application's first bytes, so the VLESS request
/// travels with them; after it, an empty padding frame goes alone (Xray-core waits 100 ms).
pub const FIRST_DATA_WAIT: Duration = Duration::from_millis(100);
/// Bytes read from either side at a time.
const READ_CHUNK: usize = 16 * 1024 + 256;

/// Which VLESS header this end sends first and which it expects from the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the request, strips the node's response header.
    Client,
    /// Sends the response header, strips the request (used by tests playing the node).
    Server,
}

/// One connection's protection: the record layer and, with Vision, its padding state.
pub struct Session {
    pub layer: RecordLayer,
    pub vision: Option<Vision>,
}

fn tls_error(e: reality::TlsError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn not_vless() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the node did not answer as VLESS (is the link's user id still valid?)",
    )
}

/// A uniformly random value in `0..n` from the system generator (rejection sampling).
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

/// What one relay moved, and whether Vision switched each direction to direct copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relayed {
    /// Inner bytes from `local` to the peer.
    pub sent: u64,
    /// Inner bytes from the peer to `local`.
    pub received: u64,
    pub direct_out: bool,
    pub direct_in: bool,
    /// Of `sent` and `received`, bytes moved with splice(2) after the switch to direct copy.
    pub spliced: u64,
}

/// Relays `local` over `socket` (the REALITY connection after its handshake) until both
/// directions ended. `header` is this end's VLESS header (the request for [`Role::Client`]);
/// it goes out with the first bytes.
pub async fn relay(
    mut local: TcpStream,
    mut socket: TcpStream,
    session: Session,
    role: Role,
    header: Vec<u8>,
) -> io::Result<Relayed> {
    let (mut local_read, mut local_write) = local.split();
    let (mut socket_read, mut socket_write) = socket.split();
    let shared = Arc::new(Mutex::new(session));
    let up_shared = Arc::clone(&shared);
    let up = async move {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut wire = Vec::new();
        let mut pending = Vec::new();
        let mut sent = 0u64;
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut spliced = 0u64;
        let (first, eof) =
            match tokio::time::timeout(FIRST_DATA_WAIT, local_read.read(&mut buf)).await {
                Ok(read) => {
                    let n = read?;
                    (n, n == 0)
                }
                Err(_) => (0, false),
            };
        sent += first as u64;
        pending.extend_from_slice(&buf[..first]);
        let mut direct = protect(&up_shared, header, &mut pending, eof, &mut wire)?;
        socket_write.write_all(&wire).await?;
        if !eof {
            loop {
                if direct && !pending.is_empty() {
                    socket_write.write_all(&pending).await?;
                    pending.clear();
                }
                #[cfg(target_os = "linux")]
                if direct {
                    if let Ok(mut pipe) = splice_copy::Pipe::new() {
                        let n = pipe
                            .copy(local_read.as_ref(), socket_write.as_ref())
                            .await?;
                        sent += n;
                        spliced += n;
                        break;
                    }
                }
                let n = local_read.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                sent += n as u64;
                if direct {
                    socket_write.write_all(&buf[..n]).await?;
                    continue;
                }
                pending.extend_from_slice(&buf[..n]);
                wire.clear();
                direct = protect(&up_shared, Vec::new(), &mut pending, false, &mut wire)?;
                socket_write.write_all(&wire).await?;
            }
            if !pending.is_empty() {
                wire.clear();
                if direct {
                    wire.append(&mut pending);
                } else {
                    direct = protect(&up_shared, Vec::new(), &mut pending, true, &mut wire)?;
                }
                socket_write.write_all(&wire).await?;
            }
        }
        if !direct {
            wire.clear();
            up_shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .layer
                .write_close_notify(&mut wire)
                .map_err(tls_error)?;
            socket_write.write_all(&wire).await?;
        }
        socket_write.shutdown().await?;
        Ok::<_, io::Error>((sent, direct, spliced))
    };

    let down_shared = shared;
    let down = async move {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut header_buf: Option<Vec<u8>> = Some(Vec::new());
        let mut direct = false;
        let mut received = 0u64;
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut spliced = 0u64;
        // The handshake may have left records behind (sent right after the peer's Finished):
        // they are decrypted before the first read from the socket.
        let mut n = 0;
        let mut first = true;
        loop {
            // Every byte read so far has been written to `local`.
            #[cfg(target_os = "linux")]
            if direct {
                if let Ok(mut pipe) = splice_copy::Pipe::new() {
                    let n = pipe
                        .copy(socket_read.as_ref(), local_write.as_ref())
                        .await?;
                    received += n;
                    spliced += n;
                    break;
                }
            }
            if !std::mem::take(&mut first) {
                n = socket_read.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
            }
            if direct {
                received += n as u64;
                local_write.write_all(&buf[..n]).await?;
                continue;
            }
            let mut to_local = Vec::new();
            let closed;
            (closed, direct) = unprotect(
                &down_shared,
                &buf[..n],
                role,
                &mut header_buf,
                &mut to_local,
            )?;
            received += to_local.len() as u64;
            local_write.write_all(&to_local).await?;
            if closed {
                break;
            }
        }
        local_write.shutdown().await?;
        Ok::<_, io::Error>((received, direct, spliced))
    };
    let ((sent, direct_out, spliced_out), (received, direct_in, spliced_in)) =
        tokio::try_join!(up, down)?;
    Ok(Relayed {
        sent,
        received,
        direct_out,
        direct_in,
        spliced: spliced_out + spliced_in,
    })
}

// The mutex is only poisoned by a panic inside one of these short sections; each call in
// them completes or fails on its own, so the state is still usable and we go on with it.

/// Pads (with Vision) and protects `header` and bytes taken from `pending` into `wire`;
/// `true` once Vision switched this direction to direct copy (later bytes go to the socket
/// as they are, starting with whatever is left in `pending`).
///
/// While Vision pads an inner TLS session, only whole inner records are taken (the rest waits
/// for the next read, or `flush`): Vision switches to direct copy only on a write made of
/// complete application-data records, and local reads rarely end on a record boundary.
fn protect(
    shared: &Mutex<Session>,
    mut plain: Vec<u8>,
    pending: &mut Vec<u8>,
    flush: bool,
    wire: &mut Vec<u8>,
) -> io::Result<bool> {
    let mut s = shared.lock().unwrap_or_else(PoisonError::into_inner);
    let Session { layer, vision } = &mut *s;
    let take = match vision {
        Some(v) if !flush && v.write_mode() == WriteMode::Padded && v.filter().is_tls() => {
            whole_records(pending).unwrap_or(pending.len())
        }
        _ => pending.len(),
    };
    if take == 0 && plain.is_empty() {
        return Ok(false);
    }
    let data: Vec<u8> = pending.drain(..take).collect();
    let mode = match vision {
        Some(v) => v.write(&data, &mut random_below, &mut plain),
        None => {
            plain.extend_from_slice(&data);
            WriteMode::Plain
        }
    };
    layer.write(&plain, wire).map_err(tls_error)?;
    Ok(mode == WriteMode::Direct)
}

/// The length of the longest prefix of `buf` made of whole TLS records, `None` if `buf` does
/// not start like TLS records.
fn whole_records(buf: &[u8]) -> Option<usize> {
    const HEADER: usize = 5;
    let mut at = 0;
    while let Some(header) = buf.get(at..at + HEADER) {
        if !(20..=23).contains(&header[0]) || header[1] != 3 {
            return None;
        }
        let len = HEADER + usize::from(u16::from_be_bytes([header[3], header[4]]));
        if at + len > buf.len() {
            break;
        }
        at += len;
    }
    Some(at)
}

/// Feeds socket bytes to the record layer and appends the inner bytes to `out`. Returns
/// (peer closed, switched to direct copy).
fn unprotect(
    shared: &Mutex<Session>,
    bytes: &[u8],
    role: Role,
    header_buf: &mut Option<Vec<u8>>,
    out: &mut Vec<u8>,
) -> io::Result<(bool, bool)> {
    let mut s = shared.lock().unwrap_or_else(PoisonError::into_inner);
    let Session { layer, vision } = &mut *s;
    layer.feed(bytes);
    let mut plain = Vec::new();
    loop {
        plain.clear();
        match layer.read(&mut plain).map_err(tls_error)? {
            Received::NeedMore => return Ok((false, false)),
            Received::Closed => return Ok((true, false)),
            Received::Other => continue,
            Received::Data(_) => {}
        }
        if let Some(pending) = header_buf {
            pending.extend_from_slice(&plain);
            let Some(used) = header_len(pending, role)? else {
                continue;
            };
            plain = pending.split_off(used);
            *header_buf = None;
        }
        match vision {
            Some(v) => {
                let mode = v
                    .read(&plain, out)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if mode == ReadMode::Direct {
                    out.extend_from_slice(&layer.take_buffered());
                    return Ok((false, true));
                }
            }
            None => out.extend_from_slice(&plain),
        }
    }
}

/// The length of the peer's VLESS header at the start of `buf`, `None` if incomplete.
fn header_len(buf: &[u8], role: Role) -> io::Result<Option<usize>> {
    let parsed = match role {
        Role::Client => vless::decode_response(buf).map_err(|_| not_vless())?,
        Role::Server => vless::decode_request(buf)
            .map_err(|_| not_vless())?
            .map(|_| ()),
    };
    Ok(match parsed {
        Parse::Done((), used) => Some(used),
        Parse::NeedMore => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_records_stop_before_a_partial_record() {
        let mut buf = vec![0x17, 3, 3, 0, 2, 0xaa, 0xbb];
        assert_eq!(whole_records(&buf), Some(7));
        buf.extend_from_slice(&[0x17, 3, 3, 0, 9, 1]);
        assert_eq!(whole_records(&buf), Some(7));
        assert_eq!(whole_records(&buf[..3]), Some(0));
        assert_eq!(whole_records(b"GET / HTTP/1.1"), None);
    }

    #[test]
    fn random_values_stay_below_the_bound() {
        assert!((0..1000).all(|_| random_below(7) < 7));
        assert_eq!(random_below(1), 0);
        assert_eq!(random_below(0), 0);
    }
}
