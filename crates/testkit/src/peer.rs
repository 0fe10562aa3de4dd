//! The third-party VLESS implementations (sing-box, v2ray, Xray-core) as processes a test starts from a
//! JSON config: found on PATH or through an env var, required when CI is set.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use client::ClientLink;
use serde_json::Value;

use crate::port::free_tcp_addr;
use crate::process::{Process, ProcessError};
use crate::singbox;
use crate::v2ray::{self, V2RayConfigError};
use crate::xray;

/// How long a peer may take to start listening.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    SingBox,
    V2Ray,
    /// Xray-core, from PyPI's Xray-core wheel through `.ci/xray`: the only REALITY peer here.
    Xray,
}

impl PeerKind {
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::SingBox => "sing-box",
            PeerKind::V2Ray => "v2ray",
            PeerKind::Xray => "xray",
        }
    }

    /// The env var that names the binary, overriding PATH.
    pub fn env_var(self) -> &'static str {
        match self {
            PeerKind::SingBox => "SING_BOX_BIN",
            PeerKind::V2Ray => "V2RAY_BIN",
            PeerKind::Xray => "XRAY_BIN",
        }
    }

    /// The binary, if this machine has it.
    pub fn locate(self) -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(self.env_var()) {
            let path = PathBuf::from(path);
            return path.is_file().then_some(path);
        }
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths)
            .map(|dir| dir.join(self.name()))
            .find(|p| p.is_file())
    }

    /// The binary, or `None` after saying why the test is skipped. Under CI (env `CI` set and not
    /// `false`/`0`) a missing peer is a failure, never a skip.
    pub fn require(self) -> Option<PathBuf> {
        let found = self.locate();
        if found.is_none() {
            let msg = format!(
                "{} not found (PATH or ${}); `bash .ci/install-peers` installs it",
                self.name(),
                self.env_var()
            );
            assert!(!running_in_ci(), "{msg}");
            eprintln!("SKIPPED: {msg}");
        }
        found
    }

    /// Whether this client passes a SOCKS half-close on to the VLESS server. v2ray 4.34 does not
    /// reliably: it sends no EOF and closes the whole connection after its own timeout.
    pub fn client_carries_half_close(self) -> bool {
        match self {
            PeerKind::SingBox | PeerKind::Xray => true,
            PeerKind::V2Ray => false,
        }
    }

    /// The largest UDP payload this client relays whole: v2ray 4.34 reads SOCKS datagrams into
    /// 2 KiB buffers and cuts longer ones; Xray's XUDP writer drops datagrams over its 8 KiB
    /// buffer less 666 bytes of headroom (`common/xudp`).
    pub fn client_max_udp_payload(self) -> usize {
        match self {
            PeerKind::SingBox => 65_507,
            PeerKind::V2Ray => 2_038,
            PeerKind::Xray => 8_192 - 666,
        }
    }

    fn args(self, config: &Path) -> Vec<String> {
        let config = config.display().to_string();
        match self {
            PeerKind::SingBox => vec!["run".into(), "--disable-color".into(), "-c".into(), config],
            PeerKind::V2Ray => vec!["-config".into(), config],
            PeerKind::Xray => vec!["run".into(), "-c".into(), config],
        }
    }
}

/// Whether the env says this is a CI run, where nothing may be skipped.
pub fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no v2ray config for this link: {0}")]
    V2Ray(#[from] V2RayConfigError),
    #[error("no sing-box config for this link: {0}")]
    SingBox(#[from] singbox::SingBoxConfigError),
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// A running peer; killed when dropped, its log printed if the test failed.
pub struct Peer {
    addr: SocketAddr,
    // Field order matters: the process dies before its directory goes away.
    process: Process,
    _dir: tempfile::TempDir,
}

impl Peer {
    /// Writes `config` to a fresh temp dir, starts `binary` on it and waits until `addr` (the
    /// peer's SOCKS inbound for a client, its VLESS inbound for a server) accepts connections.
    pub async fn start(
        kind: PeerKind,
        binary: &Path,
        config: &Value,
        addr: SocketAddr,
    ) -> Result<Peer, ProcessError> {
        let config_err = |source| ProcessError::Config {
            name: kind.name().to_owned(),
            source,
        };
        let dir = tempfile::tempdir().map_err(config_err)?;
        let path = dir.path().join("config.json");
        std::fs::write(&path, config.to_string()).map_err(config_err)?;
        let mut process = Process::spawn(kind.name(), binary, kind.args(&path), &[], dir.path())?;
        process.wait_for_tcp(addr, STARTUP_TIMEOUT).await?;
        Ok(Peer {
            addr,
            process,
            _dir: dir,
        })
    }

    /// A client for `link`, configured the way an app imports it, with its SOCKS inbound on a
    /// free loopback port. `options` matter to sing-box; Xray takes its forwards and XHTTP
    /// mode.
    pub async fn client(
        kind: PeerKind,
        binary: &Path,
        link: &ClientLink,
        options: &singbox::ClientOptions,
    ) -> Result<Peer, ClientError> {
        let socks = free_tcp_addr();
        let plain = options.security_none;
        let config = match kind {
            PeerKind::SingBox => singbox::client_config(link, socks, options)?,
            PeerKind::V2Ray => v2ray::client_config(link, socks, plain)?,
            PeerKind::Xray => xray::client_config_with(
                link,
                socks,
                &xray::ClientOptions {
                    forwards: options.forwards.clone(),
                    security_none: plain,
                    xhttp_mode: options.xhttp_mode,
                    trusted_certificate: None,
                },
            ),
        };
        Ok(Peer::start(kind, binary, &config, socks).await?)
    }

    /// The address the peer was started to listen on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }
}
