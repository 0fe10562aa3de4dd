//! The node's first moments with a connection, as a sans-I/O state machine: mirror the
//! client to `dest`, read the ClientHello, authenticate it, learn `dest`'s answer, and
//! decide between relaying to `dest` and our own handshake (XTLS/REALITY's `Server`).
//!
//! The I/O layer dials `dest` at once. Before each [`Acceptor::client_bytes`] call it asks
//! [`Acceptor::is_mirroring`] and, if so, writes the same bytes to `dest` (so a prober sees
//! a plain reverse proxy; like REALITY, mirroring stops once a hello authenticates). It holds
//! `dest`'s bytes back from the client until the decision: [`Next::Relay`] hands them over
//! (and any client bytes `dest` has not seen) for a byte-for-byte relay both ways;
//! [`Next::Accept`] carries a started [`ServerHandshake`], after which `dest` is closed.
//! Timeouts (a `dest` or client that says nothing) are the I/O layer's.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::auth::{Authenticated, Reject, ServerConfig};
use crate::cert::RealityCert;
use crate::client_hello::ClientHello;
use crate::profile::{DestProfile, ProfileError, MAX_PROFILE_BYTES};
use crate::replay::ReplayFilter;
use crate::rng::Rng;
use crate::server::{ServerHandshake, ServerOptions};
use crate::{Parse, ParseError};

/// What the I/O layer does next.
#[derive(Debug)]
pub enum Next {
    /// Keep mirroring client bytes to `dest` and holding `dest`'s bytes.
    Continue,
    /// Not ours: write `to_client` (what `dest` sent so far) to the client and `to_dest`
    /// (client bytes received after mirroring stopped) to `dest`, then relay both ways byte
    /// for byte. `why` is for counters only.
    Relay {
        to_client: Vec<u8>,
        to_dest: Vec<u8>,
        why: RelayReason,
    },
    /// Ours: write `handshake.poll_output()` to the client, feed it `client_pending` and
    /// everything the client sends next; stop mirroring and close `dest`.
    Accept {
        handshake: Box<ServerHandshake>,
        auth: Box<Authenticated>,
        client_pending: Vec<u8>,
    },
}

/// Why a connection is relayed to `dest` (a kind, never about the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayReason {
    /// The first bytes are not a TLS ClientHello.
    NotClientHello(ParseError),
    /// A ClientHello that is not an allowed REALITY client's.
    Rejected(Reject),
    /// An authenticated ClientHello seen before.
    Replayed,
    /// `dest` spoke before the ClientHello was complete.
    DestSpokeFirst,
    /// `dest`'s answer cannot be imitated (not TLS 1.3, malformed, too long).
    DestProfile(ProfileError),
    /// Our handshake could not start (no usable key share or suite).
    Handshake,
    /// The client sent too much while we waited for `dest`'s answer.
    ClientTooEager,
}

/// Client bytes held while waiting for `dest` after a hello authenticated; a REALITY client
/// sends nothing then.
const MAX_EARLY_CLIENT_BYTES: usize = 16 * 1024;

enum State {
    ReadingHello,
    AwaitingDest {
        hello: Box<ClientHello>,
        auth: Box<Authenticated>,
    },
    Decided,
}

/// One connection's acceptance; see the module docs.
pub struct Acceptor {
    config: Arc<ServerConfig>,
    cert: Arc<RealityCert>,
    options: Arc<ServerOptions>,
    replay: Option<Arc<Mutex<ReplayFilter>>>,
    now: SystemTime,
    client: Vec<u8>,
    client_hello_len: usize,
    mirrored: usize,
    dest: Vec<u8>,
    state: State,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor").finish_non_exhaustive()
    }
}

impl Acceptor {
    /// `now` is the time the connection arrived (checked against the client's timestamp).
    pub fn new(
        config: Arc<ServerConfig>,
        cert: Arc<RealityCert>,
        options: Arc<ServerOptions>,
        replay: Option<Arc<Mutex<ReplayFilter>>>,
        now: SystemTime,
    ) -> Acceptor {
        Acceptor {
            config,
            cert,
            options,
            replay,
            now,
            client: Vec::new(),
            client_hello_len: 0,
            mirrored: 0,
            dest: Vec::new(),
            state: State::ReadingHello,
        }
    }

    fn relay(&mut self, why: RelayReason) -> Next {
        self.state = State::Decided;
        Next::Relay {
            to_client: std::mem::take(&mut self.dest),
            to_dest: self.client.split_off(self.mirrored.min(self.client.len())),
            why,
        }
    }

    /// Whether client bytes are to be copied to `dest` (ask before each `client_bytes`).
    pub fn is_mirroring(&self) -> bool {
        matches!(self.state, State::ReadingHello)
    }

    /// Bytes from the client.
    pub fn client_bytes(&mut self, bytes: &[u8], rng: &mut impl Rng) -> Next {
        self.client.extend_from_slice(bytes);
        match &self.state {
            State::ReadingHello => self.mirrored = self.client.len(),
            State::AwaitingDest { .. }
                if self.client.len() - self.mirrored > MAX_EARLY_CLIENT_BYTES =>
            {
                return self.relay(RelayReason::ClientTooEager)
            }
            State::AwaitingDest { .. } => return Next::Continue,
            State::Decided => return Next::Continue,
        }
        let hello = match ClientHello::read(&self.client) {
            Ok(Parse::NeedMore) => return Next::Continue,
            Ok(Parse::Done { value, consumed }) => {
                self.client_hello_len = consumed;
                value
            }
            Err(e) => return self.relay(RelayReason::NotClientHello(e)),
        };
        let auth = match self.config.authenticate(&hello, self.now) {
            Ok(auth) => auth,
            Err(reject) => return self.relay(RelayReason::Rejected(reject)),
        };
        if let Some(filter) = &self.replay {
            let fresh = filter
                .lock()
                .map(|mut f| f.check_and_insert(auth.replay_key))
                .unwrap_or(false);
            if !fresh {
                return self.relay(RelayReason::Replayed);
            }
        }
        self.state = State::AwaitingDest {
            hello: Box::new(hello),
            auth: Box::new(auth),
        };
        // dest may have answered already (the hello was complete in an earlier read).
        self.dest_bytes(&[], rng)
    }

    /// Bytes from `dest` (held back from the client until decided).
    pub fn dest_bytes(&mut self, bytes: &[u8], rng: &mut impl Rng) -> Next {
        self.dest.extend_from_slice(bytes);
        match &self.state {
            State::ReadingHello if !self.dest.is_empty() => self.relay(RelayReason::DestSpokeFirst),
            State::AwaitingDest { .. } => match DestProfile::learn(&self.dest) {
                Ok(Parse::NeedMore) if self.dest.len() <= MAX_PROFILE_BYTES => Next::Continue,
                Ok(Parse::NeedMore) => self.relay(RelayReason::DestProfile(ProfileError::TooLong)),
                Err(e) => self.relay(RelayReason::DestProfile(e)),
                Ok(Parse::Done { value, .. }) => {
                    let State::AwaitingDest { hello, auth } =
                        std::mem::replace(&mut self.state, State::Decided)
                    else {
                        unreachable!("matched above")
                    };
                    match ServerHandshake::new(
                        &hello,
                        &auth.auth_key,
                        &self.cert,
                        &self.options,
                        Some(&value),
                        rng,
                    ) {
                        Ok(handshake) => Next::Accept {
                            handshake: Box::new(handshake),
                            auth,
                            client_pending: self.client.split_off(self.client_hello_len),
                        },
                        Err(_) => self.relay(RelayReason::Handshake),
                    }
                }
            },
            _ => Next::Continue,
        }
    }
}
