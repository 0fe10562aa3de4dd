//! REALITY's `dest` as the node will use it: it must answer a Chrome-shaped ClientHello with
//! TLS 1.3 over X25519 (the node copies its ServerHello and patches in its own X25519 key),
//! and its certificate chain must be at least as long as the node's certificate, so the
//! node's records are padded to `dest`'s. The probe is `reality`'s own dest profile.

use std::time::Duration;

use reality::{
    ChromeHello, DestChoice, DestProfile, HelloParams, Mldsa65SigningKey, Parse, ProfileError,
    RealityCert, Rng as _, SystemRng,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::Finding;

const CHECK: &str = "reality dest";
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const FIX: &str = "choose a site that speaks TLS 1.3 with X25519 and has a real certificate \
                   chain (a large site near your server) — set [node.reality] dest";

pub async fn check(c: &config::Config) -> Vec<Finding> {
    if !c.node.enabled || c.node.security != config::NodeSecurityKind::Reality {
        return vec![Finding::skipped(CHECK, "not a REALITY node")];
    }
    let r = &c.node.reality;
    let server_name = r
        .server_names
        .first()
        .map(String::as_str)
        .or_else(|| r.dest_host())
        .unwrap_or_default()
        .to_owned();
    let cert = match our_certificate(r) {
        Ok(cert) => cert,
        Err(e) => return vec![Finding::fail(CHECK, e)],
    };
    let finding = match tokio::time::timeout(PROBE_TIMEOUT, probe(&r.dest, &server_name)).await {
        Err(_) => Finding::fail(
            CHECK,
            format!(
                "{} did not finish its TLS answer within {} s; {FIX}",
                r.dest,
                PROBE_TIMEOUT.as_secs()
            ),
        ),
        Ok(Err(e)) => Finding::fail(CHECK, format!("{}: {e}; {FIX}", r.dest)),
        Ok(Ok(profile)) if !profile.fits(&cert) => Finding::fail(
            CHECK,
            format!(
                "{}'s certificate chain ({} bytes on the wire) is shorter than the node's \
                 certificate, which would stand out; {FIX}",
                r.dest,
                profile.record_lens.iter().sum::<usize>()
            ),
        ),
        Ok(Ok(_)) => Finding::ok(
            CHECK,
            format!(
                "{} answers TLS 1.3 with X25519 for {server_name} and its chain covers ours",
                r.dest
            ),
        ),
    };
    vec![finding]
}

/// The certificate the node makes (with its ML-DSA-65 signature when a seed is set).
fn our_certificate(r: &config::NodeRealityConfig) -> Result<RealityCert, String> {
    if !r.mldsa65_seed.is_set() {
        return Ok(RealityCert::generate(&mut SystemRng));
    }
    let seed = reality::decode_key(r.mldsa65_seed.expose())
        .map_err(|_| "[node.reality] mldsa65_seed is not a 32-byte seed".to_owned())?;
    Ok(RealityCert::generate_with_mldsa65(
        &mut SystemRng,
        Mldsa65SigningKey::from_seed(&seed),
    ))
}

/// Sends a ClientHello like the node's clients do and learns `dest`'s first flight.
async fn probe(dest: &str, server_name: &str) -> Result<DestProfile, String> {
    let mut stream = TcpStream::connect(dest)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let mut rng = SystemRng;
    let hello = ChromeHello::build(
        &HelloParams {
            server_name: server_name.to_owned(),
            random: rng.array(),
            session_id: rng.array(),
            // Any 32 bytes are an X25519 public key; nothing is ever decrypted here.
            x25519_public: rng.array(),
            mlkem_encapsulation_key: None,
        },
        &mut rng,
    );
    stream
        .write_all(&hello.record())
        .await
        .map_err(|e| format!("cannot send a ClientHello: {e}"))?;
    let mut answer = Vec::new();
    let mut chosen = false;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("connection failed: {e}"))?;
        if n == 0 {
            return Err("closed the connection before finishing its TLS 1.3 answer".into());
        }
        answer.extend_from_slice(&buf[..n]);
        if !chosen {
            match DestProfile::choice(&answer).map_err(describe)? {
                Parse::NeedMore => continue,
                Parse::Done {
                    value: DestChoice::HelloRetry,
                    ..
                } => {
                    return Err(
                        "asked for a key exchange other than X25519 (HelloRetryRequest)".into(),
                    )
                }
                Parse::Done {
                    value: DestChoice::Tls13 { group },
                    ..
                } if group != Some(reality::X25519) => {
                    return Err(format!(
                        "chose key exchange group {} instead of X25519",
                        group.map_or("none".to_owned(), |g| format!("0x{g:04x}"))
                    ))
                }
                Parse::Done { .. } => chosen = true,
            }
        }
        if let Parse::Done { value, .. } = DestProfile::learn(&answer).map_err(describe)? {
            return Ok(value);
        }
    }
}

fn describe(e: ProfileError) -> String {
    match e {
        ProfileError::NotTls13 => "answered without TLS 1.3 (TLS 1.2 or older, or an alert)".into(),
        ProfileError::TooLong => format!(
            "its first flight is longer than the {} bytes REALITY learns from",
            reality::MAX_PROFILE_BYTES
        ),
        ProfileError::Malformed(e) => format!("sent a malformed TLS answer ({e})"),
    }
}
