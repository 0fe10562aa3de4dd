//! What must hold for the REALITY node's first moments with a connection: the acceptor
//! (mirroring, authentication, `dest`'s answer), the server handshake after an accepted hello,
//! and the record layer after a completed one, fed arbitrary client and `dest` bytes. Shared by
//! the fuzz target and a stable test.
//!
//! Input: `[mode, seed, chunks...]`, each chunk `[tag, len, len bytes]` from the client (odd
//! tag) or from `dest` (even tag). `mode` bits put a real REALITY client before the chunks, so
//! the deep states are reached: 1 = its ClientHello (built with the fixed server key from
//! `seed`), 2 = `dest` answers it with a real TLS 1.3 flight, 4 = the client completes the
//! handshake, 8 = a replay filter that has seen the hello before, 16 = post-quantum hello.
//! Everything is deterministic: a fixed key, clock and random generator.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reality::{
    Acceptor, ClientConfig, ClientHandshake, ClientHello, Next, Parse, RealityCert, Received,
    ReplayFilter, Rng, ServerConfig, ServerHandshake, ServerOptions,
};

const SERVER_KEY: [u8; 32] = [0x42; 32];
const SHORT_ID: [u8; 8] = [0xab, 0xcd, 0, 0, 0, 0, 0, 0];
const SERVER_NAME: &str = "www.example.com";

const REAL_HELLO: u8 = 1;
const DEST_ANSWERS: u8 = 2;
const CLIENT_FINISHES: u8 = 4;
const REPLAYED: u8 = 8;
const POST_QUANTUM: u8 = 16;

/// A deterministic generator (splitmix64): the same input always takes the same path.
struct SplitMix(u64);

impl Rng for SplitMix {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *b = (z ^ (z >> 31)) as u8;
        }
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

struct Server {
    config: Arc<ServerConfig>,
    cert: Arc<RealityCert>,
    options: Arc<ServerOptions>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server {
        config: Arc::new(ServerConfig {
            private_key: SERVER_KEY,
            short_ids: vec![SHORT_ID],
            server_names: vec![SERVER_NAME.into()],
            max_time_diff: Some(Duration::from_secs(60)),
            min_client_version: None,
            max_client_version: None,
        }),
        cert: Arc::new(RealityCert::generate(&mut SplitMix(1))),
        options: Arc::new(ServerOptions::default()),
    })
}

/// A REALITY client of this server, its hello built from `seed`.
fn client(seed: u8, post_quantum: bool) -> ClientHandshake {
    let config = ClientConfig {
        server_name: SERVER_NAME.into(),
        public_key: reality::public_key(&SERVER_KEY),
        short_id: SHORT_ID,
        version: [25, 1, 1],
        post_quantum,
        mldsa65_verify: None,
    };
    ClientHandshake::new(&config, now(), &mut SplitMix(u64::from(seed)))
        .expect("the fixed key is a valid X25519 key")
}

/// What a TLS 1.3 web server answers to `hello` (the stand-in for `dest`).
fn dest_answer(hello: &[u8], seed: u8) -> Option<Vec<u8>> {
    let Ok(Parse::Done { value, .. }) = ClientHello::read(hello) else {
        return None;
    };
    let mut rng = SplitMix(u64::from(seed) << 8);
    let cert = RealityCert::generate(&mut rng);
    let mut handshake = ServerHandshake::new(
        &value,
        &[0; 32],
        &cert,
        &ServerOptions::default(),
        None,
        &mut rng,
    )
    .ok()?;
    Some(handshake.poll_output())
}

enum Phase {
    Accepting(Acceptor),
    Handshaking(Box<ServerHandshake>),
    Established(Box<reality::RecordLayer>),
    /// Relayed to `dest`, or the connection failed: nothing more is parsed.
    Over,
}

/// Everything the node saw and did, to check what it must conserve.
struct Connection {
    phase: Phase,
    rng: SplitMix,
    client_bytes: Vec<u8>,
    dest_bytes: Vec<u8>,
    mirrored: Vec<u8>,
    accepted: bool,
    established: bool,
    real_client: Option<ClientHandshake>,
}

impl Connection {
    fn client_sent(&mut self, bytes: &[u8]) {
        self.client_bytes.extend_from_slice(bytes);
        match &mut self.phase {
            Phase::Accepting(acceptor) => {
                if acceptor.is_mirroring() {
                    self.mirrored.extend_from_slice(bytes);
                }
                let next = acceptor.client_bytes(bytes, &mut self.rng);
                self.decided(next);
            }
            Phase::Handshaking(handshake) => match handshake.feed(bytes) {
                Ok(true) => {
                    let Phase::Handshaking(handshake) =
                        std::mem::replace(&mut self.phase, Phase::Over)
                    else {
                        unreachable!("matched above")
                    };
                    assert!(handshake.is_complete());
                    let layer = handshake
                        .into_record_layer()
                        .expect("a complete handshake has a record layer");
                    self.phase = Phase::Established(Box::new(layer));
                    self.established = true;
                    self.read_records();
                }
                Ok(false) => {}
                Err(_) => self.phase = Phase::Over,
            },
            Phase::Established(layer) => {
                layer.feed(bytes);
                self.read_records();
            }
            Phase::Over => {}
        }
    }

    fn dest_sent(&mut self, bytes: &[u8]) {
        self.dest_bytes.extend_from_slice(bytes);
        if let Phase::Accepting(acceptor) = &mut self.phase {
            let next = acceptor.dest_bytes(bytes, &mut self.rng);
            self.decided(next);
        }
    }

    fn decided(&mut self, next: Next) {
        match next {
            Next::Continue => {}
            Next::Relay {
                to_client,
                to_dest,
                why: _,
            } => {
                // Nothing is lost or sent twice: dest's bytes all go to the client, and the
                // client's bytes reach dest either mirrored or now.
                assert_eq!(to_client, self.dest_bytes, "dest's bytes held back");
                assert_eq!(
                    [self.mirrored.as_slice(), &to_dest].concat(),
                    self.client_bytes,
                    "client bytes lost or duplicated on the way to dest"
                );
                self.phase = Phase::Over;
            }
            Next::Accept {
                mut handshake,
                auth,
                client_pending,
            } => {
                assert!(
                    self.real_client.is_some(),
                    "accepted a hello no REALITY client built"
                );
                assert_eq!(auth.short_id, SHORT_ID);
                assert!(self.client_bytes.ends_with(&client_pending));
                self.accepted = true;
                let flight = handshake.poll_output();
                assert!(!flight.is_empty(), "an accepted client gets our flight");
                self.phase = Phase::Handshaking(handshake);
                if let Some(client) = &mut self.real_client {
                    // The client reads our flight; with CLIENT_FINISHES its answer is sent.
                    let _ = client.feed(&flight);
                }
                if !client_pending.is_empty() {
                    self.client_bytes
                        .truncate(self.client_bytes.len() - client_pending.len());
                    self.client_sent(&client_pending);
                }
            }
        }
    }

    fn read_records(&mut self) {
        let Phase::Established(layer) = &mut self.phase else {
            return;
        };
        let mut out = Vec::new();
        loop {
            let before = layer.buffered_len();
            match layer.read(&mut out) {
                Ok(Received::NeedMore) => break,
                Ok(Received::Closed) => break,
                Ok(Received::Data(n)) => {
                    assert!(n + 5 < before, "a record carries fewer bytes than it takes")
                }
                Ok(Received::Other) => {}
                Err(_) => {
                    self.phase = Phase::Over;
                    return;
                }
            }
            assert!(
                layer.buffered_len() < before,
                "a record read consumed nothing"
            );
        }
    }
}

/// How far a connection got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// Still deciding, relayed to `dest`, or failed before our handshake.
    Acceptor,
    /// Our handshake started (the hello authenticated and `dest` answered).
    Handshake,
    /// The client's Finished verified: application data is read.
    RecordLayer,
}

/// Runs one connection from `data`; panics (a finding) if the node's contract breaks.
pub fn run(data: &[u8]) {
    drive(data);
}

/// [`run`], saying how far the connection got (so tests can prove the deep states are reached).
pub fn drive(data: &[u8]) -> Reached {
    let Some((&[mode, seed], mut chunks)) = data.split_first_chunk::<2>() else {
        return Reached::Acceptor;
    };
    let server = server();
    let replay = (mode & REPLAYED != 0).then(|| Arc::new(Mutex::new(ReplayFilter::new(16))));
    let acceptor = Acceptor::new(
        Arc::clone(&server.config),
        Arc::clone(&server.cert),
        Arc::clone(&server.options),
        replay.clone(),
        now() + Duration::from_secs(u64::from(seed % 4)),
    );
    let mut conn = Connection {
        phase: Phase::Accepting(acceptor),
        rng: SplitMix(u64::from(seed) ^ 0x5eed),
        client_bytes: Vec::new(),
        dest_bytes: Vec::new(),
        mirrored: Vec::new(),
        accepted: false,
        established: false,
        real_client: None,
    };
    if mode & REAL_HELLO != 0 {
        let mut client = client(seed, mode & POST_QUANTUM != 0);
        let hello = client.poll_output();
        if let (Some(filter), Ok(Parse::Done { value, .. })) = (&replay, ClientHello::read(&hello))
        {
            if let Ok(auth) = server.config.authenticate(&value, now()) {
                filter
                    .lock()
                    .expect("not poisoned")
                    .check_and_insert(auth.replay_key);
            }
        }
        conn.real_client = Some(client);
        let cut = usize::from(seed).min(hello.len());
        conn.client_sent(&hello[..cut]);
        conn.client_sent(&hello[cut..]);
        if mode & DEST_ANSWERS != 0 {
            if let Some(answer) = dest_answer(&hello, seed) {
                conn.dest_sent(&answer);
            }
        }
        if mode & CLIENT_FINISHES != 0 {
            let finished = conn.real_client.as_mut().map(|c| c.poll_output());
            if let Some(finished) = finished.filter(|f| !f.is_empty()) {
                conn.client_sent(&finished);
            }
        }
    }
    if mode & REPLAYED != 0 && mode & REAL_HELLO != 0 {
        assert!(!conn.accepted, "a replayed hello was accepted");
    }
    while let Some((&[tag, len], rest)) = chunks.split_first_chunk::<2>() {
        let len = usize::from(len).min(rest.len());
        let (bytes, after) = rest.split_at(len);
        chunks = after;
        if tag & 1 == 1 {
            conn.client_sent(bytes);
        } else {
            conn.dest_sent(bytes);
        }
    }
    match (conn.accepted, conn.established) {
        (_, true) => Reached::RecordLayer,
        (true, false) => Reached::Handshake,
        _ => Reached::Acceptor,
    }
}
