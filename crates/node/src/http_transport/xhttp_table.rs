//! XHTTP sessions as the node's requests meet them: `xhttp::sessions` keeps the rules (pairing,
//! half-open limits, reordering), this keeps the channels. A session's upload reaches its
//! VLESS connection on one channel; packet-up packets are put on it in sequence order, one
//! deliverer at a time, and only once the download is there (until then they stay in the
//! bounded reorder buffer, which is what the half-open limits count).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xhttp::sessions::{SessionError, SessionLimits, Sessions};

use super::pipe::UPLOAD_QUEUE;

struct Side {
    uploads: mpsc::Sender<Bytes>,
    /// The VLESS connection's end of `uploads`, until the download takes it.
    waiting: Option<mpsc::Receiver<Bytes>>,
    /// Held while packets are put on `uploads`, so two POSTs never interleave theirs.
    order: Arc<tokio::sync::Mutex<()>>,
    /// Cancelled when the session ends, which ends a stream-up's copy.
    ended: CancellationToken,
}

impl Side {
    fn new() -> Self {
        let (uploads, waiting) = mpsc::channel(UPLOAD_QUEUE);
        Side {
            uploads,
            waiting: Some(waiting),
            order: Arc::new(tokio::sync::Mutex::new(())),
            ended: CancellationToken::new(),
        }
    }
}

struct Inner {
    sessions: Sessions,
    sides: HashMap<String, Side>,
}

/// Every XHTTP session of one node.
pub(crate) struct XhttpTable {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for XhttpTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Session ids are the clients' secrets of the moment: never printed.
        f.debug_struct("XhttpTable").finish_non_exhaustive()
    }
}

/// A stream-up POST's way into its session.
pub(crate) struct StreamUp {
    pub(crate) uploads: mpsc::Sender<Bytes>,
    pub(crate) ended: CancellationToken,
}

impl XhttpTable {
    pub(crate) fn new(limits: SessionLimits) -> Self {
        XhttpTable {
            inner: Mutex::new(Inner {
                sessions: Sessions::new(limits),
                sides: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The download GET of session `id` arrived: the upload's receiving end, for its VLESS
    /// connection. Call [`Self::deliver`] next (packets may be waiting) and [`Self::close`] when
    /// the connection ends.
    pub(crate) fn download(&self, id: &str) -> Result<mpsc::Receiver<Bytes>, SessionError> {
        let mut inner = self.lock();
        inner.sessions.open_download(id, Instant::now())?;
        let side = inner.sides.entry(id.to_owned()).or_insert_with(Side::new);
        side.waiting.take().ok_or(SessionError::Conflict)
    }

    /// Packet `seq` of session `id`, then whatever is now in order goes to the connection.
    pub(crate) async fn packet(
        &self,
        id: &str,
        seq: u64,
        payload: Vec<u8>,
    ) -> Result<(), SessionError> {
        {
            let mut inner = self.lock();
            inner.sessions.upload(id, seq, payload, Instant::now())?;
            inner.sides.entry(id.to_owned()).or_insert_with(Side::new);
        }
        self.deliver(id).await;
        Ok(())
    }

    /// Puts session `id`'s packets that are in order on its upload, once its download is
    /// there; waits while the connection is behind (which holds back the client's POST).
    pub(crate) async fn deliver(&self, id: &str) {
        let Some((order, uploads)) = ({
            let inner = self.lock();
            inner
                .sides
                .get(id)
                .filter(|side| side.waiting.is_none())
                .map(|side| (side.order.clone(), side.uploads.clone()))
        }) else {
            return;
        };
        let _turn = order.lock().await;
        loop {
            let next = self.lock().sessions.read_upload(id);
            let Some(packet) = next else { return };
            if packet.is_empty() {
                continue;
            }
            if uploads.send(Bytes::from(packet)).await.is_err() {
                return;
            }
        }
    }

    /// Session `id`'s stream-up POST arrived: where to copy its body.
    pub(crate) fn stream_up(&self, id: &str) -> Result<StreamUp, SessionError> {
        let mut inner = self.lock();
        inner.sessions.open_stream_up(id, Instant::now())?;
        let side = inner.sides.entry(id.to_owned()).or_insert_with(Side::new);
        Ok(StreamUp {
            uploads: side.uploads.clone(),
            ended: side.ended.clone(),
        })
    }

    /// Session `id` is over: its channels close.
    pub(crate) fn close(&self, id: &str) {
        let mut inner = self.lock();
        inner.sessions.close(id);
        if let Some(side) = inner.sides.remove(id) {
            side.ended.cancel();
        }
    }

    /// Ends the half-open sessions whose time is up; how many.
    pub(crate) fn expire(&self) -> usize {
        let mut inner = self.lock();
        let dropped = inner.sessions.expire(Instant::now());
        for (id, _why) in &dropped {
            if let Some(side) = inner.sides.remove(id) {
                side.ended.cancel();
            }
        }
        dropped.len()
    }

    /// Sessions open (paired or not), and upload bytes they hold.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.sessions.len(), inner.sessions.buffered_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn table() -> XhttpTable {
        XhttpTable::new(SessionLimits {
            half_open_ttl: Duration::from_millis(50),
            half_open_idle: Duration::from_millis(50),
            ..SessionLimits::default()
        })
    }

    #[tokio::test]
    async fn packets_out_of_order_reach_the_download_in_order() {
        let table = table();
        table.packet("s", 2, b"c".to_vec()).await.unwrap();
        table.packet("s", 0, b"a".to_vec()).await.unwrap();
        let mut rx = table.download("s").unwrap();
        table.deliver("s").await;
        assert_eq!(rx.recv().await.unwrap(), "a");
        table.packet("s", 1, b"b".to_vec()).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), "b");
        assert_eq!(rx.recv().await.unwrap(), "c");
        assert!(matches!(table.download("s"), Err(SessionError::Conflict)));
        table.close("s");
        assert_eq!(table.usage(), (0, 0));
    }

    #[tokio::test]
    async fn a_session_whose_download_never_comes_is_dropped_with_its_bytes() {
        let table = table();
        table.packet("s", 0, vec![7; 1000]).await.unwrap();
        let up = table.stream_up("t").unwrap();
        assert_eq!(table.usage(), (2, 1000));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(table.expire(), 2);
        assert_eq!(table.usage(), (0, 0));
        assert!(up.ended.is_cancelled());
    }
}
