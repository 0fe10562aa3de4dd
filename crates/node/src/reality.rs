//! REALITY in place of TLS: dial `dest` at once, mirror the client to it while the
//! [`reality::Acceptor`] reads the ClientHello, then either relay byte for byte to `dest`
//! (everyone who is not our client sees the real website) or finish our own handshake and
//! serve VLESS over the record layer.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use reality::{
    Acceptor, Mldsa65SigningKey, Next, RealityCert, ReplayFilter, ServerConfig, ServerOptions,
    SystemRng,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use xtls_stream::RecordStream;

use crate::budget::SourceSlot;
use crate::fallback::{relay_spliced_within, FallbackLimits};
use crate::metrics::{HandshakeFailure, Metrics};

/// ClientHellos remembered against replay (a few minutes of a busy node).
const REPLAY_CAPACITY: usize = 100_000;
/// Bytes read from either side at a time before the decision.
const READ_CHUNK: usize = 16 * 1024;

/// `[node.reality]` as the node uses it.
#[derive(Clone)]
pub struct RealitySettings {
    /// Key, short ids, server names and clock tolerance (Xray's `realitySettings`).
    pub server: ServerConfig,
    /// `host:port` of the real TLS 1.3 website everyone else is relayed to.
    pub dest: String,
    /// Xray's `mldsa65Seed`: the certificate also carries an ML-DSA-65 signature.
    pub mldsa65_seed: Option<[u8; 32]>,
}

impl std::fmt::Debug for RealitySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealitySettings")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RealitySettings {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.server, &other.server);
        self.dest == other.dest
            && self.mldsa65_seed == other.mldsa65_seed
            && a.private_key == b.private_key
            && a.short_ids == b.short_ids
            && a.server_names == b.server_names
            && a.max_time_diff == b.max_time_diff
            && a.min_client_version == b.min_client_version
            && a.max_client_version == b.max_client_version
    }
}

impl Eq for RealitySettings {}

/// What every REALITY connection of one node shares.
pub(crate) struct RealityServer {
    config: Arc<ServerConfig>,
    cert: Arc<RealityCert>,
    options: Arc<ServerOptions>,
    replay: Arc<Mutex<ReplayFilter>>,
    dest: String,
}

impl RealityServer {
    pub(crate) fn new(settings: &RealitySettings) -> Self {
        RealityServer {
            config: Arc::new(settings.server.clone()),
            cert: Arc::new(match &settings.mldsa65_seed {
                Some(seed) => RealityCert::generate_with_mldsa65(
                    &mut SystemRng,
                    Mldsa65SigningKey::from_seed(seed),
                ),
                None => RealityCert::generate(&mut SystemRng),
            }),
            options: Arc::new(ServerOptions::default()),
            replay: Arc::new(Mutex::new(ReplayFilter::new(REPLAY_CAPACITY))),
            dest: settings.dest.clone(),
        }
    }

    /// Takes a fresh connection to its end when it is not ours (relayed to `dest`), or returns
    /// it as a stream of VLESS bytes once our handshake is done. `deadline` bounds the wait
    /// for the decision and the handshake.
    pub(crate) async fn accept(
        &self,
        mut client: TcpStream,
        deadline: Instant,
        limits: FallbackLimits,
        slot: &mut SourceSlot,
        metrics: &Metrics,
        pipes: &Arc<Semaphore>,
    ) -> Option<RecordStream<TcpStream>> {
        let arrived = SystemTime::now();
        let mut dest = match tokio::time::timeout_at(deadline, TcpStream::connect(&self.dest)).await
        {
            Ok(Ok(dest)) => dest,
            Ok(Err(_)) | Err(_) => {
                metrics.failure(HandshakeFailure::Tls);
                return None;
            }
        };
        let _ = dest.set_nodelay(true);
        let mut acceptor = Acceptor::new(
            self.config.clone(),
            self.cert.clone(),
            self.options.clone(),
            Some(self.replay.clone()),
            arrived,
        );
        let decided =
            tokio::time::timeout_at(deadline, decide(&mut client, &mut dest, &mut acceptor)).await;
        let next = match decided {
            Ok(Some(next)) => next,
            // Still mirroring: dest has seen every client byte and said nothing, so from here
            // a plain relay is exactly what a reverse proxy in our place would do (a silent or
            // slow prober, or one side closing, behaves as it would with dest itself).
            Ok(None) | Err(_) if acceptor.is_mirroring() => Next::Relay {
                to_client: Vec::new(),
                to_dest: Vec::new(),
                why: reality::RelayReason::Handshake,
            },
            Ok(None) | Err(_) => {
                metrics.failure(HandshakeFailure::Tls);
                return None;
            }
        };
        match next {
            Next::Continue => None,
            Next::Relay {
                to_client, to_dest, ..
            } => {
                metrics.fallback();
                slot.handshake_done();
                let _ = relay_spliced_within(
                    &mut client,
                    &mut dest,
                    (to_dest, to_client),
                    limits,
                    metrics,
                    Some(pipes),
                )
                .await;
                None
            }
            Next::Accept {
                handshake,
                client_pending,
                ..
            } => {
                drop(dest);
                match tokio::time::timeout_at(
                    deadline,
                    finish(&mut client, handshake, client_pending),
                )
                .await
                {
                    Ok(Some(layer)) => Some(RecordStream::reality(client, layer)),
                    Ok(None) | Err(_) => {
                        metrics.failure(HandshakeFailure::Tls);
                        None
                    }
                }
            }
        }
    }
}

/// Mirrors the client to `dest` and feeds both sides to the acceptor until it decides.
/// `None` when either side ends or fails first.
///
/// While the acceptor mirrors, it holds no byte of dest's (dest speaking first is decided at
/// once) and dest has every byte of the client's.
async fn decide(
    client: &mut TcpStream,
    dest: &mut TcpStream,
    acceptor: &mut Acceptor,
) -> Option<Next> {
    let mut from_client = vec![0u8; READ_CHUNK];
    let mut from_dest = vec![0u8; READ_CHUNK];
    loop {
        tokio::select! {
            read = client.read(&mut from_client) => {
                let n = read.ok().filter(|&n| n > 0)?;
                let bytes = &from_client[..n];
                if acceptor.is_mirroring() {
                    dest.write_all(bytes).await.ok()?;
                }
                match acceptor.client_bytes(bytes, &mut SystemRng) {
                    Next::Continue => {}
                    decided => return Some(decided),
                }
            }
            read = dest.read(&mut from_dest) => {
                let n = read.ok().filter(|&n| n > 0)?;
                match acceptor.dest_bytes(&from_dest[..n], &mut SystemRng) {
                    Next::Continue => {}
                    decided => return Some(decided),
                }
            }
        }
    }
}

/// Sends our handshake flight and reads the client's Finished.
async fn finish(
    client: &mut TcpStream,
    mut handshake: Box<reality::ServerHandshake>,
    pending: Vec<u8>,
) -> Option<reality::RecordLayer> {
    client.write_all(&handshake.poll_output()).await.ok()?;
    let mut done = handshake.feed(&pending).ok()?;
    let mut buf = vec![0u8; READ_CHUNK];
    while !done {
        let n = client.read(&mut buf).await.ok().filter(|&n| n > 0)?;
        done = handshake.feed(&buf[..n]).ok()?;
    }
    let late = handshake.poll_output();
    if !late.is_empty() {
        client.write_all(&late).await.ok()?;
    }
    handshake.into_record_layer()
}
