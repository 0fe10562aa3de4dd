//! The server side of a TLS 1.3 handshake for an authenticated REALITY client.

use x25519_dalek::{PublicKey, StaticSecret};

use crate::cert::RealityCert;
use crate::client_hello::{ClientHello, X25519, X25519_MLKEM768};
use crate::kex;
use crate::key_schedule::{application_secrets, finished_mac, handshake_secrets, Transcript};
use crate::layer::RecordLayer;
use crate::messages::{self, HandshakeBuffer, ServerHello};
use crate::profile::DestProfile;
use crate::protect::{Protector, TAG_LEN};
use crate::record::{
    complete_record_len, plain_record, ContentType, CHANGE_CIPHER_SPEC, RECORD_HEADER_LEN,
};
use crate::rng::Rng;
use crate::suite::CipherSuite;
use crate::TlsError;

/// Choices the server makes when it has no [`DestProfile`] to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Cipher suites in order of preference.
    pub suites: Vec<CipherSuite>,
    /// ALPN protocols in order of preference; the first the client offers is selected, as a
    /// web server would. (XTLS/REALITY selects none; the choice is encrypted either way.)
    pub alpn: Vec<Vec<u8>>,
    /// Key-exchange groups in order of preference, among the client's key shares.
    pub groups: Vec<u16>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            suites: CipherSuite::ALL.to_vec(),
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            groups: vec![X25519, X25519_MLKEM768],
        }
    }
}

/// A server handshake in progress: its first flight is ready at once in
/// [`ServerHandshake::poll_output`]; [`ServerHandshake::feed`] takes the client's answer.
pub struct ServerHandshake {
    suite: CipherSuite,
    alpn: Option<Vec<u8>>,
    output: Vec<u8>,
    client_hs: Protector,
    expected_finished: Vec<u8>,
    client_app: Vec<u8>,
    server_app: Vec<u8>,
    input: Vec<u8>,
    messages: HandshakeBuffer,
    complete: bool,
}

impl std::fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandshake")
            .field("suite", &self.suite)
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

/// Our key share for `group` and the shared secret, from the client's share of that group.
fn key_exchange(
    hello: &ClientHello,
    group: u16,
    rng: &mut impl Rng,
) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    let share = hello
        .key_shares
        .iter()
        .find(|k| k.group == group)
        .ok_or(TlsError::NoKeyShare)?;
    let (mlkem_ek, x25519_part) = match group {
        X25519 if share.data.len() == 32 => (None, share.data.as_slice()),
        X25519_MLKEM768 if share.data.len() == kex::EK_LEN + 32 => {
            let (ek, x) = share.data.split_at(kex::EK_LEN);
            (Some(ek), x)
        }
        _ => return Err(TlsError::BadKeyShare),
    };
    let client_public: [u8; 32] = x25519_part.try_into().map_err(|_| TlsError::BadKeyShare)?;
    let secret = StaticSecret::from(rng.array::<32>());
    let public = PublicKey::from(&secret).to_bytes();
    let x25519_shared = secret.diffie_hellman(&PublicKey::from(client_public));
    if !x25519_shared.was_contributory() {
        return Err(TlsError::BadKeyShare);
    }
    match mlkem_ek {
        None => Ok((public.to_vec(), x25519_shared.as_bytes().to_vec())),
        Some(ek) => {
            let (ciphertext, mlkem_shared) =
                kex::encapsulate(ek, rng).ok_or(TlsError::BadKeyShare)?;
            Ok((
                [ciphertext.as_slice(), &public].concat(),
                [&mlkem_shared[..], x25519_shared.as_bytes()].concat(),
            ))
        }
    }
}

/// `dest`'s ServerHello with our key share patched in, and the shared secret, if `dest`'s
/// choices are usable for this client.
fn patched_dest_hello(
    profile: &DestProfile,
    hello: &ClientHello,
    rng: &mut impl Rng,
) -> Option<(CipherSuite, Vec<u8>, Vec<u8>)> {
    let dest = ServerHello::parse(profile.server_hello.clone()).ok()?;
    let suite = CipherSuite::from_id(dest.cipher_suite)?;
    if dest.session_id != hello.session_id || !hello.cipher_suites.contains(&dest.cipher_suite) {
        return None;
    }
    let (share, shared) = key_exchange(hello, dest.key_share_group?, rng).ok()?;
    let at = dest.key_share_at?;
    if at.len() != share.len() {
        return None;
    }
    let mut raw = dest.raw;
    raw[at].copy_from_slice(&share);
    Some((suite, raw, shared))
}

impl ServerHandshake {
    /// Starts the handshake for `hello`, whose client holds `auth_key`.
    ///
    /// Calling this without [`crate::ServerConfig::authenticate`] (any `auth_key`) gives a
    /// plain TLS 1.3 server, which is how tests prove the engine against other TLS clients.
    pub fn new(
        hello: &ClientHello,
        auth_key: &[u8; 32],
        cert: &RealityCert,
        options: &ServerOptions,
        profile: Option<&DestProfile>,
        rng: &mut impl Rng,
    ) -> Result<ServerHandshake, TlsError> {
        let copied = profile.and_then(|p| patched_dest_hello(p, hello, rng));
        let (suite, server_hello, shared) = match copied {
            Some(found) => found,
            None => {
                let suite = options
                    .suites
                    .iter()
                    .copied()
                    .find(|s| hello.cipher_suites.contains(&s.id()))
                    .ok_or(TlsError::NoCommonSuite)?;
                let group = options
                    .groups
                    .iter()
                    .copied()
                    .find(|g| hello.key_shares.iter().any(|k| k.group == *g))
                    .ok_or(TlsError::NoKeyShare)?;
                let (share, shared) = key_exchange(hello, group, rng)?;
                let random = rng.array::<32>();
                (
                    suite,
                    ServerHello::encode(&random, &hello.session_id, suite.id(), group, &share),
                    shared,
                )
            }
        };
        let hash = suite.hash();
        let alpn = options
            .alpn
            .iter()
            .find(|p| hello.alpn.contains(p))
            .cloned();

        let mut transcript = Transcript::default();
        transcript.add(&hello.raw);
        transcript.add(&server_hello);
        let secrets = handshake_secrets(hash, &shared, &transcript.hash(hash));
        let mut server_hs = Protector::new(suite, &secrets.server);
        let client_hs = Protector::new(suite, &secrets.client);

        let encrypted_extensions = messages::encrypted_extensions(alpn.as_deref());
        transcript.add(&encrypted_extensions);
        let certificate =
            messages::certificate(&cert.for_handshake(auth_key, &hello.raw, &server_hello)?);
        transcript.add(&certificate);
        let signature = cert.sign(&messages::certificate_verify_input(&transcript.hash(hash)));
        let certificate_verify = messages::certificate_verify(&signature);
        transcript.add(&certificate_verify);
        let finished =
            messages::finished(&finished_mac(hash, &secrets.server, &transcript.hash(hash)));
        transcript.add(&finished);
        let (client_app, server_app) =
            application_secrets(hash, &secrets.master, &transcript.hash(hash));
        let expected_finished = finished_mac(hash, &secrets.client, &transcript.hash(hash));

        let mut output = Vec::new();
        plain_record(ContentType::Handshake, 0x0303, &server_hello, &mut output);
        output.extend_from_slice(&CHANGE_CIPHER_SPEC);
        let flight = [
            encrypted_extensions,
            certificate,
            certificate_verify,
            finished,
        ];
        let lens = profile.map(|p| p.record_lens.as_slice()).unwrap_or(&[]);
        if lens.len() == 1 {
            let all = flight.concat();
            server_hs.seal(
                ContentType::Handshake,
                &all,
                padding_to(lens[0], all.len()),
                &mut output,
            )?;
        } else {
            for (i, message) in flight.iter().enumerate() {
                let pad = lens.get(i).map_or(0, |&len| padding_to(len, message.len()));
                server_hs.seal(ContentType::Handshake, message, pad, &mut output)?;
            }
        }

        Ok(ServerHandshake {
            suite,
            alpn,
            output,
            client_hs,
            expected_finished,
            client_app,
            server_app,
            input: Vec::new(),
            messages: HandshakeBuffer::default(),
            complete: false,
        })
    }

    /// Bytes to send to the client (the whole server flight, once).
    pub fn poll_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Takes bytes from the client; returns whether the handshake is now complete. Bytes
    /// after the client's Finished stay buffered for the [`RecordLayer`].
    pub fn feed(&mut self, bytes: &[u8]) -> Result<bool, TlsError> {
        if self.complete {
            self.input.extend_from_slice(bytes);
            return Ok(true);
        }
        self.input.extend_from_slice(bytes);
        let mut pos = 0;
        while !self.complete {
            let Some(len) = complete_record_len(&self.input[pos..])? else {
                break;
            };
            let record = &mut self.input[pos..pos + len];
            pos += len;
            match ContentType::from_u8(record[0]) {
                Some(ContentType::ChangeCipherSpec) if record[RECORD_HEADER_LEN..] == [1] => {
                    continue
                }
                Some(ContentType::Alert) => {
                    return Err(TlsError::Alert(record.get(6).copied().unwrap_or(0)))
                }
                Some(ContentType::ApplicationData) => {}
                _ => return Err(TlsError::UnexpectedRecord(record[0])),
            }
            let (kind, range) = self.client_hs.open(record)?;
            match kind {
                ContentType::Handshake => self.messages.push(&record[range]),
                ContentType::Alert => {
                    return Err(TlsError::Alert(
                        record.get(range.start + 1).copied().unwrap_or(0),
                    ))
                }
                _ => return Err(TlsError::UnexpectedRecord(kind as u8)),
            }
            if let Some(message) = self.messages.next_message()? {
                if message[0] != messages::FINISHED {
                    return Err(TlsError::UnexpectedHandshake(message[0]));
                }
                if !bool::from(subtle::ConstantTimeEq::ct_eq(
                    &message[4..],
                    &self.expected_finished[..],
                )) {
                    return Err(TlsError::BadFinished);
                }
                if !self.messages.is_empty() {
                    return Err(TlsError::UnexpectedHandshake(0));
                }
                self.complete = true;
            }
        }
        self.input.drain(..pos);
        Ok(self.complete)
    }

    /// Whether the client's Finished has been verified.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The negotiated cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The selected ALPN protocol.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The application-data record layer; `None` before the handshake is complete.
    pub fn into_record_layer(self) -> Option<RecordLayer> {
        self.complete.then(|| {
            RecordLayer::new(
                Protector::new(self.suite, &self.server_app),
                Protector::new(self.suite, &self.client_app),
                self.input,
            )
        })
    }
}

/// Padding that makes a record carrying `message_len` bytes `record_len` long on the wire.
fn padding_to(record_len: usize, message_len: usize) -> usize {
    let pad = record_len.saturating_sub(RECORD_HEADER_LEN + message_len + 1 + TAG_LEN);
    pad.min(crate::MAX_PLAINTEXT.saturating_sub(message_len))
}
