//! XHTTP sessions by id: a session's upload (packet-up POSTs or one stream-up POST) and its
//! download GET arrive as separate requests, possibly on separate connections, and meet here.
//!
//! A session is created by whichever comes first. Until its download arrives it is
//! **half-open**, and an attacker could open many and upload into them forever; so a half-open
//! session lives at most `half_open_ttl` from its creation (Xray reaps after 30 s) and
//! `half_open_idle` without an upload, holds at most `half_open_max_bytes`, and at most
//! `max_half_open` exist at once. Memory held by half-open sessions is therefore at most
//! `max_half_open × half_open_max_bytes` plus their ids. Once paired, a session lives as long as
//! its download (the caller [`Sessions::close`]s it) and its buffer is bounded by
//! [`UploadLimits`].
//!
//! No clock inside: every call that may start or refresh a timer takes `now`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::upload::{ReorderBuffer, UploadError, UploadLimits};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A half-open session is dropped this long after it was created (Xray: 30 s).
    pub half_open_ttl: Duration,
    /// A half-open session is dropped after this long without an upload.
    pub half_open_idle: Duration,
    /// Upload bytes a half-open session may hold; one more and it is dropped.
    pub half_open_max_bytes: usize,
    /// Half-open sessions at most; a new one past it is refused.
    pub max_half_open: usize,
    /// Each session's reorder buffer.
    pub upload: UploadLimits,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            half_open_ttl: Duration::from_secs(30),
            half_open_idle: Duration::from_secs(10),
            half_open_max_bytes: 1_000_000,
            max_half_open: 1024,
            upload: UploadLimits::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("too many sessions are waiting for their download")]
    TooManyHalfOpen,
    /// The session held more than a half-open session may; it was dropped.
    #[error("a session without a download uploaded too much and was dropped")]
    HalfOpenTooLarge,
    /// A second download, or a second stream-up, or packets beside a stream-up (Xray: 409).
    #[error("the session already has this side")]
    Conflict,
    #[error(transparent)]
    Upload(#[from] UploadError),
}

/// Why [`Sessions::expire`] dropped a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expiry {
    /// Half-open for `half_open_ttl`.
    NoDownload,
    /// Half-open and no upload for `half_open_idle`.
    Idle,
}

#[derive(Debug)]
struct Session {
    created: Instant,
    last_upload: Instant,
    upload: ReorderBuffer,
    download: bool,
    stream_up: bool,
}

impl Session {
    fn half_open(&self) -> bool {
        !self.download
    }
}

/// Every session of one XHTTP listener.
#[derive(Debug)]
pub struct Sessions {
    limits: SessionLimits,
    map: HashMap<String, Session>,
    half_open: usize,
}

impl Sessions {
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            map: HashMap::new(),
            half_open: 0,
        }
    }

    fn upsert(&mut self, id: &str, now: Instant) -> Result<&mut Session, SessionError> {
        if !self.map.contains_key(id) {
            if self.half_open >= self.limits.max_half_open {
                return Err(SessionError::TooManyHalfOpen);
            }
            self.half_open += 1;
            let session = Session {
                created: now,
                last_upload: now,
                upload: ReorderBuffer::new(self.limits.upload),
                download: false,
                stream_up: false,
            };
            self.map.insert(id.to_owned(), session);
        }
        self.map.get_mut(id).ok_or(SessionError::Conflict)
    }

    /// Packet `seq` of session `id`'s packet-up upload. A half-open session that would hold
    /// more than its limit is dropped ([`SessionError::HalfOpenTooLarge`]).
    pub fn upload(
        &mut self,
        id: &str,
        seq: u64,
        payload: Vec<u8>,
        now: Instant,
    ) -> Result<(), SessionError> {
        let max = self.limits.half_open_max_bytes;
        let session = self.upsert(id, now)?;
        if session.stream_up {
            return Err(SessionError::Conflict);
        }
        if session.half_open() && session.upload.buffered_bytes() + payload.len() > max {
            self.remove(id);
            return Err(SessionError::HalfOpenTooLarge);
        }
        session.upload.push(seq, payload)?;
        session.last_upload = now;
        Ok(())
    }

    /// Session `id`'s stream-up POST arrived: its body is the whole upload, which the caller
    /// copies itself. At most one, and not beside packets.
    pub fn open_stream_up(&mut self, id: &str, now: Instant) -> Result<(), SessionError> {
        let session = self.upsert(id, now)?;
        if session.stream_up || session.upload.waiting() > 0 || session.upload.next_seq() > 0 {
            return Err(SessionError::Conflict);
        }
        session.stream_up = true;
        session.last_upload = now;
        Ok(())
    }

    /// Session `id`'s download GET arrived: the session is no longer half-open and lives until
    /// [`Sessions::close`]. At most one download per session.
    pub fn open_download(&mut self, id: &str, now: Instant) -> Result<(), SessionError> {
        let session = self.upsert(id, now)?;
        if session.download {
            return Err(SessionError::Conflict);
        }
        session.download = true;
        self.half_open -= 1;
        Ok(())
    }

    /// The next upload bytes of session `id` in order, if they have arrived.
    pub fn read_upload(&mut self, id: &str) -> Option<Vec<u8>> {
        self.map.get_mut(id)?.upload.pop()
    }

    /// Whether session `id` has a stream-up POST (whose body the caller reads instead).
    pub fn has_stream_up(&self, id: &str) -> bool {
        self.map.get(id).is_some_and(|s| s.stream_up)
    }

    /// Whether session `id` exists (it may have expired or been closed).
    pub fn contains(&self, id: &str) -> bool {
        self.map.contains_key(id)
    }

    /// Session `id` is over (its download ended, or the caller gave up on it).
    pub fn close(&mut self, id: &str) {
        self.remove(id);
    }

    fn remove(&mut self, id: &str) {
        if let Some(session) = self.map.remove(id) {
            if session.half_open() {
                self.half_open -= 1;
            }
        }
    }

    /// Drops the half-open sessions whose time is up at `now` and says which, so the caller
    /// can end their requests.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, Expiry)> {
        let limits = self.limits;
        let mut dropped = Vec::new();
        self.map.retain(|id, session| {
            if !session.half_open() {
                return true;
            }
            let why = if now.saturating_duration_since(session.created) >= limits.half_open_ttl {
                Expiry::NoDownload
            } else if now.saturating_duration_since(session.last_upload) >= limits.half_open_idle {
                Expiry::Idle
            } else {
                return true;
            };
            dropped.push((id.clone(), why));
            false
        });
        self.half_open -= dropped.len();
        dropped
    }

    /// Sessions, paired or not.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sessions still waiting for their download.
    pub fn half_open(&self) -> usize {
        self.half_open
    }

    /// Upload bytes held across every session.
    pub fn buffered_bytes(&self) -> usize {
        self.map.values().map(|s| s.upload.buffered_bytes()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: &str = "c0ffee00-0000-4000-8000-000000000001";

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn read_all(sessions: &mut Sessions, id: &str) -> Vec<u8> {
        std::iter::from_fn(|| sessions.read_upload(id))
            .flatten()
            .collect()
    }

    #[test]
    fn out_of_order_uploads_are_reassembled_for_the_download() {
        let t0 = Instant::now();
        let mut sessions = Sessions::new(SessionLimits::default());
        sessions.upload(S, 2, b"lo, ".to_vec(), t0).unwrap();
        sessions.upload(S, 0, b"he".to_vec(), t0).unwrap();
        sessions.open_download(S, t0 + secs(1)).unwrap();
        assert_eq!(sessions.half_open(), 0);
        assert_eq!(read_all(&mut sessions, S), b"he");
        sessions.upload(S, 3, b"world".to_vec(), t0).unwrap();
        sessions.upload(S, 1, b"l".to_vec(), t0).unwrap();
        assert_eq!(read_all(&mut sessions, S), b"llo, world");
        // Paired sessions are the download's to end, not the clock's.
        assert!(sessions.expire(t0 + secs(3600)).is_empty());
        sessions.close(S);
        assert!(sessions.is_empty());
    }

    #[test]
    fn a_download_that_never_comes_is_dropped_within_its_limit() {
        let limits = SessionLimits::default();
        let t0 = Instant::now();
        let mut sessions = Sessions::new(limits);
        // Uploads keep coming, so only the total time can end it.
        let mut seq = 0;
        let mut now = t0;
        while now < t0 + limits.half_open_ttl {
            assert!(sessions.expire(now).is_empty(), "dropped early at {now:?}");
            sessions.upload(S, seq, vec![7; 10], now).unwrap();
            seq += 1;
            now += secs(1);
            while sessions.read_upload(S).is_some() {}
        }
        assert_eq!(
            sessions.expire(t0 + limits.half_open_ttl),
            vec![(S.to_owned(), Expiry::NoDownload)]
        );
        assert!(sessions.is_empty());
        assert_eq!(sessions.half_open(), 0);
        // A download arriving after that starts a new session, empty.
        sessions.open_download(S, now).unwrap();
        assert_eq!(sessions.read_upload(S), None);
    }

    #[test]
    fn a_silent_half_open_session_is_dropped_when_idle() {
        let limits = SessionLimits::default();
        let t0 = Instant::now();
        let mut sessions = Sessions::new(limits);
        sessions.upload(S, 5, b"x".to_vec(), t0).unwrap();
        sessions.open_stream_up("other", t0).unwrap();
        assert!(sessions
            .expire(t0 + limits.half_open_idle - secs(1))
            .is_empty());
        let mut dropped = sessions.expire(t0 + limits.half_open_idle);
        dropped.sort();
        assert_eq!(
            dropped,
            vec![
                (S.to_owned(), Expiry::Idle),
                ("other".to_owned(), Expiry::Idle)
            ]
        );
        assert_eq!(sessions.buffered_bytes(), 0);
    }

    #[test]
    fn a_half_open_session_cannot_hold_more_than_its_limit() {
        let limits = SessionLimits {
            half_open_max_bytes: 100,
            ..SessionLimits::default()
        };
        let t0 = Instant::now();
        let mut sessions = Sessions::new(limits);
        // Packet 0 never comes, so nothing can be read: everything waits.
        for seq in 1..=10 {
            sessions.upload(S, seq, vec![0; 10], t0).unwrap();
        }
        assert_eq!(
            sessions.upload(S, 11, vec![0; 1], t0),
            Err(SessionError::HalfOpenTooLarge)
        );
        assert!(!sessions.contains(S));
        assert_eq!((sessions.half_open(), sessions.buffered_bytes()), (0, 0));
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_sessions_and_packets() {
        let limits = SessionLimits {
            max_half_open: 50,
            half_open_max_bytes: 1000,
            ..SessionLimits::default()
        };
        let t0 = Instant::now();
        let mut sessions = Sessions::new(limits);
        let mut refused = 0;
        for i in 0..10_000u64 {
            let id = format!("flood-{}", i % 200);
            match sessions.upload(&id, 1 + i / 200, vec![0; 300], t0) {
                Ok(()) => {}
                Err(
                    SessionError::TooManyHalfOpen
                    | SessionError::HalfOpenTooLarge
                    | SessionError::Upload(_),
                ) => refused += 1,
                Err(e) => panic!("{e}"),
            }
            assert!(sessions.half_open() <= 50);
            assert!(sessions.buffered_bytes() <= 50 * 1000);
        }
        assert!(refused > 0);
        // And the clock clears what is left.
        sessions.expire(t0 + limits.half_open_ttl);
        assert!(sessions.is_empty());
        assert_eq!(sessions.half_open(), 0);
    }

    #[test]
    fn each_side_is_taken_once() {
        let t0 = Instant::now();
        let mut sessions = Sessions::new(SessionLimits::default());
        sessions.open_download(S, t0).unwrap();
        assert_eq!(sessions.open_download(S, t0), Err(SessionError::Conflict));
        sessions.open_stream_up(S, t0).unwrap();
        assert!(sessions.has_stream_up(S));
        assert_eq!(sessions.open_stream_up(S, t0), Err(SessionError::Conflict));
        assert_eq!(
            sessions.upload(S, 0, b"x".to_vec(), t0),
            Err(SessionError::Conflict)
        );
        sessions.upload("p", 0, b"x".to_vec(), t0).unwrap();
        assert_eq!(
            sessions.open_stream_up("p", t0),
            Err(SessionError::Conflict)
        );
        assert_eq!(
            sessions.upload("p", 0, b"x".to_vec(), t0),
            Err(SessionError::Upload(UploadError::Duplicate(0)))
        );
        assert_eq!(sessions.half_open(), 1);
    }

    /// One call on the table: which of a few sessions, and what.
    fn op() -> impl Strategy<Value = (u8, u8, u8, u8)> {
        (0u8..6, 0u8..4, 0u8..40, 0u8..120)
    }

    proptest! {
        #[test]
        fn counts_and_bounds_hold_under_any_calls(ops in proptest::collection::vec(op(), 0..200)) {
            let limits = SessionLimits {
                max_half_open: 3,
                half_open_max_bytes: 50,
                upload: UploadLimits { max_packets: 8, max_post_bytes: 20, max_bytes: 60 },
                ..SessionLimits::default()
            };
            let t0 = Instant::now();
            let mut sessions = Sessions::new(limits);
            let mut downloads = std::collections::HashSet::new();
            for (step, (what, who, seq, len)) in ops.into_iter().enumerate() {
                let id = format!("s{who}");
                let now = t0 + Duration::from_secs(step as u64);
                match what {
                    0 | 1 => {
                        let _ = sessions.upload(&id, u64::from(seq % 12), vec![0; usize::from(len % 25)], now);
                    }
                    2 => {
                        if sessions.open_download(&id, now).is_ok() {
                            downloads.insert(id.clone());
                        }
                    }
                    3 => {
                        let _ = sessions.open_stream_up(&id, now);
                    }
                    4 => {
                        sessions.close(&id);
                        downloads.remove(&id);
                    }
                    _ => {
                        while sessions.read_upload(&id).is_some() {}
                        for (gone, _) in sessions.expire(now) {
                            prop_assert!(!downloads.contains(&gone), "a paired session expired");
                        }
                    }
                }
                let half_open = sessions.map.values().filter(|s| s.half_open()).count();
                prop_assert_eq!(sessions.half_open(), half_open);
                prop_assert!(half_open <= limits.max_half_open);
                for session in sessions.map.values() {
                    let cap = if session.half_open() { limits.half_open_max_bytes } else { limits.upload.max_bytes };
                    prop_assert!(session.upload.buffered_bytes() <= cap);
                }
            }
        }
    }
}
