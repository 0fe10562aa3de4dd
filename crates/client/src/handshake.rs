//! The REALITY client handshake on a socket: the Chrome-shaped hello from the reality crate
//! out, the node's flight in, until the record layer is ready.

use std::time::SystemTime;

use reality::{ClientConfig, ClientHandshake, RecordLayer, SystemRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::outbound::OutboundError;

/// Most bytes a server's handshake flight may take before we give up on it.
const MAX_FLIGHT: usize = 64 * 1024;

/// Runs the handshake; fails with [`OutboundError::Reality`] if the answer is not the node's
/// (a wrong key, short id or server name gets the cover site's own certificate instead).
pub async fn reality<S>(socket: &mut S, config: &ClientConfig) -> Result<RecordLayer, OutboundError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut hs = ClientHandshake::new(config, SystemTime::now(), &mut SystemRng)?;
    socket.write_all(&hs.poll_output()).await?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut seen = 0;
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Err(OutboundError::ClosedInHandshake);
        }
        seen += n;
        let done = hs.feed(&buf[..n])?;
        let out = hs.poll_output();
        if !out.is_empty() {
            socket.write_all(&out).await?;
        }
        if done {
            return hs
                .into_record_layer()
                .ok_or(OutboundError::ClosedInHandshake);
        }
        if seen > MAX_FLIGHT {
            return Err(OutboundError::ClosedInHandshake);
        }
    }
}
