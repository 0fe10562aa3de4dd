//! The client side: a Chrome-shaped ClientHello carrying the REALITY session id, then a
//! TLS 1.3 client handshake that accepts only the server's HMAC certificate.

use std::time::{SystemTime, UNIX_EPOCH};

use ring::signature::{UnparsedPublicKey, ED25519};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::auth::{auth_key, seal_session_id, session_plaintext};
use crate::cert::{verify_reality_certificate, verify_reality_certificate_mldsa65};
use crate::client_hello::{SESSION_ID_OFFSET, TLS13, X25519, X25519_MLKEM768};
use crate::hello::{ChromeHello, HelloParams};
use crate::kex::{self, MlKemKey};
use crate::key_schedule::{
    application_secrets, finished_mac, handshake_secrets, HandshakeSecrets, Transcript,
};
use crate::layer::RecordLayer;
use crate::messages::{self, HandshakeBuffer, ServerHello};
use crate::mldsa65::Mldsa65PublicKey;
use crate::protect::Protector;
use crate::record::{complete_record_len, ContentType, CHANGE_CIPHER_SPEC, RECORD_HEADER_LEN};
use crate::rng::Rng;
use crate::suite::CipherSuite;
use crate::TlsError;

/// A REALITY client's settings (from a `vless://` link: `sni`, `pbk`, `sid`, `pqv`).
#[derive(Clone)]
pub struct ClientConfig {
    pub server_name: String,
    /// The server's X25519 public key.
    pub public_key: [u8; 32],
    pub short_id: [u8; 8],
    /// The version bytes x.y.z the client announces (Xray puts its own version here).
    pub version: [u8; 3],
    /// Offer X25519MLKEM768 and shape the hello like Chrome 133 (uTLS's HelloChrome_Auto,
    /// what Xray's `fp=chrome` sends); without it the hello is shaped like Chrome 120.
    pub post_quantum: bool,
    /// The server's ML-DSA-65 public key (Xray's `mldsa65Verify`, a link's `pqv`): when set,
    /// the certificate must also carry its signature over this handshake's hellos.
    pub mldsa65_verify: Option<Mldsa65PublicKey>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("version", &self.version)
            .field("mldsa65", &self.mldsa65_verify.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    ServerHello,
    EncryptedExtensions,
    Certificate,
    CertificateVerify,
    Finished,
    Done,
}

struct Keys {
    suite: CipherSuite,
    secrets: HandshakeSecrets,
    server_hs: Protector,
}

/// A client handshake in progress.
pub struct ClientHandshake {
    secret: StaticSecret,
    mlkem: Option<MlKemKey>,
    auth_key: [u8; 32],
    session_id: Vec<u8>,
    transcript: Transcript,
    output: Vec<u8>,
    input: Vec<u8>,
    messages: HandshakeBuffer,
    expect: Expect,
    keys: Option<Keys>,
    server_key: Option<[u8; 32]>,
    alpn: Option<Vec<u8>>,
    app: Option<(Protector, Protector)>,
    /// The ML-DSA-65 key to check, with the hellos (as sent and received) it signs.
    mldsa65: Option<Mldsa65Check>,
}

struct Mldsa65Check {
    key: Mldsa65PublicKey,
    client_hello: Vec<u8>,
    server_hello: Vec<u8>,
}

impl std::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl ClientHandshake {
    /// Builds the ClientHello (ready in [`ClientHandshake::poll_output`]).
    pub fn new(
        config: &ClientConfig,
        now: SystemTime,
        rng: &mut impl Rng,
    ) -> Result<ClientHandshake, TlsError> {
        let secret = StaticSecret::from(rng.array::<32>());
        let public = PublicKey::from(&secret).to_bytes();
        let random = rng.array::<32>();
        let (mlkem, mlkem_encapsulation_key) = if config.post_quantum {
            let (key, ek) = MlKemKey::generate(rng);
            (Some(key), Some(ek))
        } else {
            (None, None)
        };
        let params = HelloParams {
            server_name: config.server_name.clone(),
            random,
            session_id: [0; 32],
            x25519_public: public,
            mlkem_encapsulation_key,
        };
        let mut hello = ChromeHello::build(&params, rng);
        let key = auth_key(secret.as_bytes(), &config.public_key, &random)
            .ok_or(TlsError::BadKeyShare)?;
        // Xray writes the low 32 bits of the Unix time.
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        let plain = session_plaintext(config.version, secs, config.short_id);
        seal_session_id(&key, &random, &mut hello.message, plain);
        let session_id = hello.message[SESSION_ID_OFFSET..SESSION_ID_OFFSET + 32].to_vec();
        let mut transcript = Transcript::default();
        transcript.add(&hello.message);
        let mldsa65 = config.mldsa65_verify.clone().map(|key| Mldsa65Check {
            key,
            client_hello: hello.message.clone(),
            server_hello: Vec::new(),
        });
        Ok(ClientHandshake {
            secret,
            mlkem,
            auth_key: key,
            session_id,
            transcript,
            output: hello.record(),
            input: Vec::new(),
            messages: HandshakeBuffer::default(),
            expect: Expect::ServerHello,
            keys: None,
            server_key: None,
            alpn: None,
            app: None,
            mldsa65,
        })
    }

    /// Bytes to send to the server.
    pub fn poll_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Whether the handshake is complete.
    pub fn is_complete(&self) -> bool {
        self.expect == Expect::Done
    }

    /// The AuthKey shared with the server.
    pub fn auth_key(&self) -> [u8; 32] {
        self.auth_key
    }

    /// The ALPN protocol the server selected.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The negotiated suite, once the ServerHello arrived.
    pub fn suite(&self) -> Option<CipherSuite> {
        self.keys.as_ref().map(|k| k.suite)
    }

    /// Takes bytes from the server; returns whether the handshake is now complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<bool, TlsError> {
        self.input.extend_from_slice(bytes);
        let mut pos = 0;
        while self.expect != Expect::Done {
            let Some(len) = complete_record_len(&self.input[pos..])? else {
                break;
            };
            let mut record = self.input[pos..pos + len].to_vec();
            pos += len;
            match ContentType::from_u8(record[0]) {
                Some(ContentType::Handshake) if self.expect == Expect::ServerHello => {
                    self.messages.push(&record[RECORD_HEADER_LEN..]);
                }
                Some(ContentType::ChangeCipherSpec) if record[RECORD_HEADER_LEN..] == [1] => {
                    continue
                }
                Some(ContentType::Alert) => {
                    return Err(TlsError::Alert(record.get(6).copied().unwrap_or(0)))
                }
                Some(ContentType::ApplicationData) if self.keys.is_some() => {
                    let keys = self
                        .keys
                        .as_mut()
                        .ok_or(TlsError::UnexpectedRecord(record[0]))?;
                    let (kind, range) = keys.server_hs.open(&mut record)?;
                    match kind {
                        ContentType::Handshake => self.messages.push(&record[range]),
                        ContentType::Alert => {
                            return Err(TlsError::Alert(
                                record.get(range.start + 1).copied().unwrap_or(0),
                            ))
                        }
                        _ => return Err(TlsError::UnexpectedRecord(kind as u8)),
                    }
                }
                _ => return Err(TlsError::UnexpectedRecord(record[0])),
            }
            while self.expect != Expect::Done {
                let Some(message) = self.messages.next_message()? else {
                    break;
                };
                self.handle(message)?;
            }
        }
        self.input.drain(..pos);
        Ok(self.expect == Expect::Done)
    }

    fn handle(&mut self, message: Vec<u8>) -> Result<(), TlsError> {
        let kind = message[0];
        match self.expect {
            Expect::ServerHello => {
                let hello = ServerHello::parse(message)?;
                let suite =
                    CipherSuite::from_id(hello.cipher_suite).ok_or(TlsError::IllegalParameter)?;
                if hello.supported_version != Some(TLS13) || hello.session_id != self.session_id {
                    return Err(TlsError::IllegalParameter);
                }
                let at = hello
                    .key_share_at
                    .clone()
                    .ok_or(TlsError::IllegalParameter)?;
                let share = &hello.raw[at];
                let (mlkem_shared, x25519_part) = match (hello.key_share_group, &self.mlkem) {
                    (Some(X25519), _) => (None, share),
                    (Some(X25519_MLKEM768), Some(key)) if share.len() == kex::CT_LEN + 32 => {
                        let (ciphertext, x) = share.split_at(kex::CT_LEN);
                        (
                            Some(key.decapsulate(ciphertext).ok_or(TlsError::BadKeyShare)?),
                            x,
                        )
                    }
                    _ => return Err(TlsError::IllegalParameter),
                };
                let server_public: [u8; 32] =
                    x25519_part.try_into().map_err(|_| TlsError::BadKeyShare)?;
                let x25519_shared = self.secret.diffie_hellman(&PublicKey::from(server_public));
                if !x25519_shared.was_contributory() {
                    return Err(TlsError::BadKeyShare);
                }
                let shared = match mlkem_shared {
                    Some(k) => [&k[..], x25519_shared.as_bytes()].concat(),
                    None => x25519_shared.as_bytes().to_vec(),
                };
                self.transcript.add(&hello.raw);
                if let Some(check) = &mut self.mldsa65 {
                    check.server_hello = hello.raw.clone();
                }
                let hash = suite.hash();
                let secrets = handshake_secrets(hash, &shared, &self.transcript.hash(hash));
                let server_hs = Protector::new(suite, &secrets.server);
                self.keys = Some(Keys {
                    suite,
                    secrets,
                    server_hs,
                });
                self.expect = Expect::EncryptedExtensions;
                if !self.messages.is_empty() {
                    // Nothing may follow the ServerHello before the key change.
                    return Err(TlsError::UnexpectedHandshake(0));
                }
                return Ok(());
            }
            Expect::EncryptedExtensions if kind == messages::ENCRYPTED_EXTENSIONS => {
                self.alpn = messages::parse_encrypted_extensions(&message)?;
                self.expect = Expect::Certificate;
            }
            Expect::Certificate if kind == messages::CERTIFICATE => {
                let leaf = messages::parse_certificate(&message)?;
                self.server_key = Some(match &self.mldsa65 {
                    None => verify_reality_certificate(&leaf, &self.auth_key)?,
                    Some(check) => verify_reality_certificate_mldsa65(
                        &leaf,
                        &self.auth_key,
                        &check.key,
                        &check.client_hello,
                        &check.server_hello,
                    )?,
                });
                self.expect = Expect::CertificateVerify;
            }
            Expect::CertificateVerify if kind == messages::CERTIFICATE_VERIFY => {
                let (scheme, signature) = messages::parse_certificate_verify(&message)?;
                let keys = self
                    .keys
                    .as_ref()
                    .ok_or(TlsError::UnexpectedHandshake(kind))?;
                let key = self.server_key.ok_or(TlsError::UnexpectedHandshake(kind))?;
                let signed =
                    messages::certificate_verify_input(&self.transcript.hash(keys.suite.hash()));
                if scheme != messages::ED25519_SCHEME
                    || UnparsedPublicKey::new(&ED25519, key)
                        .verify(&signed, &signature)
                        .is_err()
                {
                    return Err(TlsError::BadSignature);
                }
                self.expect = Expect::Finished;
            }
            Expect::Finished if kind == messages::FINISHED => {
                let keys = self
                    .keys
                    .as_ref()
                    .ok_or(TlsError::UnexpectedHandshake(kind))?;
                let hash = keys.suite.hash();
                let expected =
                    finished_mac(hash, &keys.secrets.server, &self.transcript.hash(hash));
                if !bool::from(subtle::ConstantTimeEq::ct_eq(&message[4..], &expected[..])) {
                    return Err(TlsError::BadFinished);
                }
                self.transcript.add(&message);
                let th = self.transcript.hash(hash);
                let (client_app, server_app) = application_secrets(hash, &keys.secrets.master, &th);
                let client_finished =
                    messages::finished(&finished_mac(hash, &keys.secrets.client, &th));
                let mut client_hs = Protector::new(keys.suite, &keys.secrets.client);
                self.output.extend_from_slice(&CHANGE_CIPHER_SPEC);
                client_hs.seal(
                    ContentType::Handshake,
                    &client_finished,
                    0,
                    &mut self.output,
                )?;
                self.app = Some((
                    Protector::new(keys.suite, &client_app),
                    Protector::new(keys.suite, &server_app),
                ));
                self.expect = Expect::Done;
                if !self.messages.is_empty() {
                    return Err(TlsError::UnexpectedHandshake(0));
                }
                return Ok(());
            }
            _ => return Err(TlsError::UnexpectedHandshake(kind)),
        }
        self.transcript.add(&message);
        Ok(())
    }

    /// The application-data record layer (with any bytes the server sent after its
    /// Finished); `None` before the handshake is complete.
    pub fn into_record_layer(self) -> Option<RecordLayer> {
        let (tx, rx) = self.app?;
        Some(RecordLayer::new(tx, rx, self.input))
    }
}
