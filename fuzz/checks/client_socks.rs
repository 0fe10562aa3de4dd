//! What must hold for the client's SOCKS5 inbound reading a greeting and a CONNECT request
//! (`client::fuzzing::socks_accept`), on any bytes a local application sends. Shared by the
//! fuzz target and a stable test. The first input byte chooses the size of the pieces the rest
//! arrives in; the reader is polled on an in-memory stream that never waits.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use client::fuzzing::{socks_accept, SocksError};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use vless::{Address, Destination};

/// An application's side: its bytes in pieces, and what the inbound answered.
struct App<'a> {
    input: &'a [u8],
    piece: usize,
    answered: Vec<u8>,
}

impl AsyncRead for App<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.piece.min(self.input.len()).min(buf.remaining());
        let (now, later) = self.input.split_at(n);
        buf.put_slice(now);
        self.input = later;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for App<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.answered.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs the inbound over `input`: its verdict, the bytes it read and what it answered.
fn accept(input: &[u8], piece: usize) -> (Result<Destination, SocksError>, usize, Vec<u8>) {
    let mut app = App {
        input,
        piece,
        answered: Vec::new(),
    };
    let result = {
        let mut future = pin!(socks_accept(&mut app));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(result) => result,
            Poll::Pending => panic!("the inbound waited on a stream that never waits"),
        }
    };
    (result, input.len() - app.input.len(), app.answered)
}

/// A CONNECT request for `destination`, as an application sends it.
fn request(destination: &Destination) -> Vec<u8> {
    let mut out = vec![5, 1, 0, 5, 1, 0];
    match &destination.address {
        Address::Ipv4(ip) => {
            out.push(1);
            out.extend_from_slice(&ip.octets());
        }
        Address::Ipv6(ip) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        Address::Domain(name) => {
            out.push(3);
            out.push(u8::try_from(name.len()).expect("a valid domain is at most 255 bytes"));
            out.extend_from_slice(name.as_bytes());
        }
    }
    out.extend_from_slice(&destination.port.to_be_bytes());
    out
}

fn is_eof(e: &SocksError) -> bool {
    matches!(e, SocksError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof)
}

/// Reads `data[1..]`; panics (a finding) if the inbound's contract breaks.
pub fn run(data: &[u8]) {
    let Some((&piece, input)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1);
    let (result, used, answered) = accept(input, piece);
    let (whole, whole_used, whole_answered) = accept(input, usize::MAX);
    assert_eq!(
        format!("{result:?}"),
        format!("{whole:?}"),
        "the pieces changed the verdict"
    );
    assert_eq!((used, &answered), (whole_used, &whole_answered));
    assert!(
        answered.is_empty() || answered.starts_with(&[5, 0]) || answered == [5, 0xff],
        "answered {answered:?}"
    );
    match result {
        Ok(destination) => {
            // Exactly the request was read, nothing of what follows it.
            let n_methods = usize::from(input[1]);
            let head = 2 + n_methods + 4;
            let address_len = match input[head - 1] {
                1 => 4,
                4 => 16,
                _ => 1 + usize::from(input[head]),
            };
            assert_eq!(used, head + address_len + 2, "read past the request");
            assert_eq!(answered, [5, 0]);
            // Every strict prefix of it only asks for more.
            for end in 0..used {
                let (cut, _, _) = accept(&input[..end], usize::MAX);
                assert!(
                    matches!(&cut, Err(e) if is_eof(e)),
                    "prefix of {end}: {cut:?}"
                );
            }
            // The destination asked for again reads back the same.
            let (again, _, _) = accept(&request(&destination), usize::MAX);
            assert_eq!(again.ok(), Some(destination));
        }
        Err(SocksError::NoAcceptableMethod) => assert_eq!(answered, [5, 0xff]),
        Err(_) => {}
    }
}
