//! XHTTP sessions as the node's requests meet them: `xhttp::sessions` keeps the rules (pairing,
//! half-open limits, reordering), this keeps the channels. A session's upload reaches its
//! VLESS connection on one channel; packet-up packets are put on it in sequence order, one
//! deliverer at a time, and only once the download is there (until then they stay in the
//! bounded reorder buffer, which is what the half-open limits count).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use client_identity::ClientKey;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xhttp::sessions::{SessionError, SessionLimits, Sessions};

use super::pipe::UPLOAD_QUEUE;

/// Sessions one client (an address, an IPv6 /64) may have waiting for their download at once:
/// a client's own are paired within a round trip, and without a cap one client who learned the
/// path could fill the node-wide limit and keep everyone else's new sessions out.
pub(crate) const MAX_HALF_OPEN_PER_SOURCE: usize = 32;

struct Side {
    uploads: mpsc::Sender<Bytes>,
    /// The VLESS connection's end of `uploads`, until the download takes it.
    waiting: Option<mpsc::Receiver<Bytes>>,
    /// Held while packets are put on `uploads`, so two POSTs never interleave theirs.
    order: Arc<tokio::sync::Mutex<()>>,
    /// Cancelled when the session ends, which ends a stream-up's copy.
    ended: CancellationToken,
    /// The client that opened the session, while it waits for its download.
    half_open_for: Option<ClientKey>,
}

impl Side {
    fn new() -> Self {
        let (uploads, waiting) = mpsc::channel(UPLOAD_QUEUE);
        Side {
            uploads,
            waiting: Some(waiting),
            order: Arc::new(tokio::sync::Mutex::new(())),
            ended: CancellationToken::new(),
            half_open_for: None,
        }
    }
}

struct Inner {
    sessions: Sessions,
    sides: HashMap<String, Side>,
    /// Half-open sessions per client that opened them.
    half_open_by: HashMap<ClientKey, usize>,
}

impl Inner {
    /// Whether `source` may open session `id` if it is new (a new one would be half-open).
    fn may_open(&self, id: &str, source: ClientKey) -> Result<(), SessionError> {
        let waiting = self.half_open_by.get(&source).copied().unwrap_or(0);
        if !self.sessions.contains(id) && waiting >= MAX_HALF_OPEN_PER_SOURCE {
            return Err(SessionError::TooManyHalfOpen);
        }
        Ok(())
    }

    /// The side of session `id`, made (and counted as `source`'s, half-open) if new.
    fn side(&mut self, id: &str, source: ClientKey) -> &mut Side {
        let counts = &mut self.half_open_by;
        self.sides.entry(id.to_owned()).or_insert_with(|| {
            *counts.entry(source).or_insert(0) += 1;
            Side {
                half_open_for: Some(source),
                ..Side::new()
            }
        })
    }

    /// Session `id` has its download: no longer its opener's half-open one.
    fn paired(&mut self, id: &str) {
        if let Some(source) = self.sides.get_mut(id).and_then(|s| s.half_open_for.take()) {
            self.uncount(source);
        }
    }

    fn uncount(&mut self, source: ClientKey) {
        if let Some(n) = self.half_open_by.get_mut(&source) {
            *n -= 1;
            if *n == 0 {
                self.half_open_by.remove(&source);
            }
        }
    }

    /// Drops session `id`'s side (its channels close) and its count.
    fn forget(&mut self, id: &str) {
        if let Some(side) = self.sides.remove(id) {
            side.ended.cancel();
            if let Some(source) = side.half_open_for {
                self.uncount(source);
            }
        }
    }
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
                half_open_by: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The download GET of session `id` arrived: the upload's receiving end, for its VLESS
    /// connection. Call [`Self::deliver`] next (packets may be waiting) and [`Self::close`] when
    /// the connection ends.
    pub(crate) fn download(
        &self,
        id: &str,
        source: ClientKey,
    ) -> Result<mpsc::Receiver<Bytes>, SessionError> {
        let mut inner = self.lock();
        inner.may_open(id, source)?;
        inner.sessions.open_download(id, Instant::now())?;
        inner.side(id, source);
        inner.paired(id);
        let side = inner.sides.get_mut(id).ok_or(SessionError::Conflict)?;
        side.waiting.take().ok_or(SessionError::Conflict)
    }

    /// Packet `seq` of session `id` from `source`, then whatever is now in order goes to the
    /// connection.
    pub(crate) async fn packet(
        &self,
        id: &str,
        seq: u64,
        payload: Vec<u8>,
        source: ClientKey,
    ) -> Result<(), SessionError> {
        {
            let mut inner = self.lock();
            inner.may_open(id, source)?;
            match inner.sessions.upload(id, seq, payload, Instant::now()) {
                Ok(()) => {}
                Err(e @ SessionError::HalfOpenTooLarge) => {
                    inner.forget(id);
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
            inner.side(id, source);
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
    pub(crate) fn stream_up(&self, id: &str, source: ClientKey) -> Result<StreamUp, SessionError> {
        let mut inner = self.lock();
        inner.may_open(id, source)?;
        inner.sessions.open_stream_up(id, Instant::now())?;
        let side = inner.side(id, source);
        Ok(StreamUp {
            uploads: side.uploads.clone(),
            ended: side.ended.clone(),
        })
    }

    /// Session `id` is over: its channels close.
    pub(crate) fn close(&self, id: &str) {
        let mut inner = self.lock();
        inner.sessions.close(id);
        inner.forget(id);
    }

    /// Ends the half-open sessions whose time is up; how many.
    pub(crate) fn expire(&self) -> usize {
        let mut inner = self.lock();
        let dropped = inner.sessions.expire(Instant::now());
        for (id, _why) in &dropped {
            inner.forget(id);
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

    fn me() -> ClientKey {
        ClientKey::of("192.0.2.1".parse().unwrap())
    }

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
        table.packet("s", 2, b"c".to_vec(), me()).await.unwrap();
        table.packet("s", 0, b"a".to_vec(), me()).await.unwrap();
        let mut rx = table.download("s", me()).unwrap();
        table.deliver("s").await;
        assert_eq!(rx.recv().await.unwrap(), "a");
        table.packet("s", 1, b"b".to_vec(), me()).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), "b");
        assert_eq!(rx.recv().await.unwrap(), "c");
        assert!(matches!(
            table.download("s", me()),
            Err(SessionError::Conflict)
        ));
        table.close("s");
        assert_eq!(table.usage(), (0, 0));
    }

    #[tokio::test]
    async fn a_session_whose_download_never_comes_is_dropped_with_its_bytes() {
        let table = table();
        table.packet("s", 0, vec![7; 1000], me()).await.unwrap();
        let up = table.stream_up("t", me()).unwrap();
        assert_eq!(table.usage(), (2, 1000));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(table.expire(), 2);
        assert_eq!(table.usage(), (0, 0));
        assert!(up.ended.is_cancelled());
        assert!(table.lock().half_open_by.is_empty());
    }

    #[tokio::test]
    async fn one_client_waits_on_a_bounded_number_of_sessions_and_others_still_open_theirs() {
        let table = table();
        for i in 0..MAX_HALF_OPEN_PER_SOURCE {
            table
                .packet(&format!("s{i}"), 0, b"x".to_vec(), me())
                .await
                .unwrap();
        }
        let over = table.packet("one-more", 0, b"x".to_vec(), me()).await;
        assert!(matches!(over, Err(SessionError::TooManyHalfOpen)));
        assert!(matches!(
            table.download("one-more", me()),
            Err(SessionError::TooManyHalfOpen)
        ));
        // Its own sessions still take packets and downloads; someone else opens theirs.
        table.packet("s0", 1, b"y".to_vec(), me()).await.unwrap();
        let other = ClientKey::of("198.51.100.7".parse().unwrap());
        table
            .packet("theirs", 0, b"x".to_vec(), other)
            .await
            .unwrap();
        // A download pairs one of them: the client may open another.
        let _rx = table.download("s0", me()).unwrap();
        table
            .packet("one-more", 0, b"x".to_vec(), me())
            .await
            .unwrap();
        table.close("s0");
        table.close("one-more");
        assert_eq!(
            table.lock().half_open_by.get(&me()),
            Some(&(MAX_HALF_OPEN_PER_SOURCE - 1))
        );
    }
}
