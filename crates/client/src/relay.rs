//! Copying one proxied connection both ways: local bytes to the node, and the node's bytes —
//! after its VLESS response header — back, each direction half-closed on its own.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The node's response header is two bytes plus addons; more than this is not VLESS.
const MAX_RESPONSE_HEADER: usize = 2 + 255;

/// Relays until both directions reached end of stream. `remote` has had the VLESS request
/// written to it; its first bytes must be the VLESS response header, else the node did not take
/// us for a user (it answers strangers with its website) and the relay fails with
/// `InvalidData` before any of those bytes reach `local`.
pub async fn relay<L, R>(local: L, remote: R) -> io::Result<(u64, u64)>
where
    L: AsyncRead + AsyncWrite + Unpin,
    R: AsyncRead + AsyncWrite + Unpin,
{
    let (mut local_read, mut local_write) = tokio::io::split(local);
    let (mut remote_read, mut remote_write) = tokio::io::split(remote);
    let up = async {
        let sent = tokio::io::copy(&mut local_read, &mut remote_write).await?;
        remote_write.shutdown().await?;
        Ok::<_, io::Error>(sent)
    };
    let down = async {
        let rest = read_response_header(&mut remote_read).await?;
        local_write.write_all(&rest).await?;
        let received = tokio::io::copy(&mut remote_read, &mut local_write).await?;
        local_write.shutdown().await?;
        Ok::<_, io::Error>(received + rest.len() as u64)
    };
    tokio::try_join!(up, down)
}

/// Reads the response header and returns the payload bytes that came after it.
async fn read_response_header<R: AsyncRead + Unpin>(remote: &mut R) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(512);
    loop {
        match vless::decode_response(&buf) {
            Ok(vless::Parse::Done {
                value: (),
                consumed: used,
            }) => return Ok(buf.split_off(used)),
            Ok(vless::Parse::NeedMore) if buf.len() < MAX_RESPONSE_HEADER => {}
            _ => return Err(not_vless()),
        }
        if remote.read_buf(&mut buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the node closed before its VLESS response",
            ));
        }
    }
}

fn not_vless() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the node did not answer as VLESS (is the link's user id still valid?)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn payload_after_the_response_header_reaches_local_and_half_close_keeps_the_other_way_open(
    ) {
        let (local, mut app) = tokio::io::duplex(1024);
        let (remote, mut node) = tokio::io::duplex(1024);
        let relay = tokio::spawn(relay(local, remote));

        app.write_all(b"request").await.unwrap();
        app.shutdown().await.unwrap();
        let mut got = Vec::new();
        node.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");

        // Header with one byte of addons, split over writes, then the reply after our EOF.
        node.write_all(&[0]).await.unwrap();
        node.write_all(&[1, 0xaa, b'r']).await.unwrap();
        node.write_all(b"eply").await.unwrap();
        node.shutdown().await.unwrap();
        let mut reply = Vec::new();
        app.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"reply");
        assert_eq!(relay.await.unwrap().unwrap(), (7, 5));
    }

    #[tokio::test]
    async fn a_website_answer_is_not_passed_on_as_if_it_were_the_destination() {
        let (local, mut app) = tokio::io::duplex(1024);
        let (remote, mut node) = tokio::io::duplex(1024);
        let relay = tokio::spawn(relay(local, remote));
        node.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            .await
            .unwrap();
        let err = relay.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        drop(node);
        let mut got = Vec::new();
        app.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty());
    }
}
