//! The listener remote nodes dial: a TLS handshake within [`HANDSHAKE_DEADLINE`], then one
//! session per connection, at most [`MAX_CONNECTIONS`] at once. Addresses of whoever connects
//! are never logged.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::session::{self, SessionContext};
use crate::ControlError;

/// A stranger gets this long to finish the handshake.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// Nodes, joins and strangers together. It comes out of the descriptors `milly` reserves for
/// the database, the bot and the feed (docs/limits.md); an operator runs far fewer nodes.
pub const MAX_CONNECTIONS: usize = 128;

/// Accepts nodes on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    ctx: SessionContext,
    shutdown: CancellationToken,
) -> Result<(), ControlError> {
    let mut tls =
        feed_wire::tls::server_config(ctx.identity.certificate.clone(), ctx.identity.key())
            .map_err(|e| ControlError::Certificate(e.to_string()))?;
    // Nodes keep one long connection; resumption would only keep secrets around.
    tls.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    tls.send_tls13_tickets = 0;
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let ctx = Arc::new(ctx);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return Ok(()),
            },
        };
        let tcp = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "node feed: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tcp.set_nodelay(true);
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(tcp)).await
            else {
                return;
            };
            let Some(peer) = feed_wire::tls::peer_pin(tls.get_ref().1) else {
                return;
            };
            if let Err(e) = session::run(tls, peer, &ctx, shutdown).await {
                tracing::debug!(error = %e, "node feed: a node connection ended");
            }
        });
    }
}
