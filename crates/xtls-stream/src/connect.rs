//! The REALITY client handshake on a socket: the Chrome-shaped hello from the reality crate
//! out, the server's flight in, until the record layer is ready — `milly client`'s way to a
//! node, and one node's way to the next in a chain.

use std::io;
use std::time::SystemTime;

use reality::{ClientConfig, ClientHandshake, SystemRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::buffer::RECORD_READ_SIZE;
use crate::record_stream::RecordStream;

/// Most bytes a server's handshake flight may take before we give up on it.
const MAX_FLIGHT: usize = 64 * 1024;

/// Why the handshake did not end in a REALITY connection. Never names an address or user.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A certificate error here means the answer came from the cover site: a wrong key, short
    /// id or server name gets the cover site's own certificate.
    #[error("{0}")]
    Reality(#[from] reality::TlsError),
    #[error("the server closed the connection during the handshake")]
    Closed,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Runs the client handshake on `socket` and returns the connection as a stream.
pub async fn connect<S>(
    mut socket: S,
    config: &ClientConfig,
) -> Result<RecordStream<S>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut hs = ClientHandshake::new(config, SystemTime::now(), &mut SystemRng)?;
    socket.write_all(&hs.poll_output()).await?;
    let mut buf = vec![0u8; RECORD_READ_SIZE];
    let mut seen = 0;
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Err(ConnectError::Closed);
        }
        seen += n;
        let done = hs.feed(&buf[..n])?;
        let out = hs.poll_output();
        if !out.is_empty() {
            socket.write_all(&out).await?;
        }
        if done {
            let layer = hs.into_record_layer().ok_or(ConnectError::Closed)?;
            return Ok(RecordStream::reality(socket, layer));
        }
        if seen > MAX_FLIGHT {
            return Err(ConnectError::Closed);
        }
    }
}
