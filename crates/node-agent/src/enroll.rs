//! Enrollment: make the node's credential, present it to the control plane with the join token, and write `node.toml` once the control plane accepts it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use feed_wire::{JoinString, Refusal, ToControl, ToNode};

use crate::credential::{Credential, CredentialError};
use crate::link::{Link, LinkError};
use crate::{config, files, AgentConfig};

/// The file `milly node join` writes in its directory.
pub const NODE_TOML: &str = "node.toml";
/// The node's certificate and key in that directory.
pub const NODE_CERTIFICATE: &str = "node.crt";
pub const NODE_KEY: &str = "node.key";

/// How long the control plane has to answer a join.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a node could not join.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("{0} already exists: this directory holds an enrolled node")]
    AlreadyEnrolled(PathBuf),
    #[error("cannot create {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("cannot set up TLS with the new credential: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the control plane refused the join: {0}")]
    Refused(Refusal),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a successful join wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// The name the operator gave this node.
    pub node_name: String,
    /// The `node.toml` to run the node with.
    pub config_path: PathBuf,
}

/// Where the node listens and sends strangers, as `node.toml` will say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrollOptions {
    pub listen: IpAddr,
    pub fallback: std::net::SocketAddr,
    pub allow_private_destinations: bool,
    pub connect_timeout: Duration,
}

impl Default for EnrollOptions {
    fn default() -> Self {
        EnrollOptions {
            listen: IpAddr::from([0, 0, 0, 0]),
            fallback: config::DEFAULT_FALLBACK
                .parse()
                .unwrap_or_else(|_| ([127, 0, 0, 1], 80).into()),
            allow_private_destinations: false,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Joins the control plane of `join` and writes `dir/node.toml`, `dir/node.crt` and
/// `dir/node.key` (0600), with the default options.
pub async fn enroll(join: &JoinString, dir: &Path) -> Result<Enrolled, EnrollError> {
    enroll_with(join, dir, EnrollOptions::default()).await
}

/// [`enroll`] with the listener's address, the fallback and the connect timeout given.
pub async fn enroll_with(
    join: &JoinString,
    dir: &Path,
    options: EnrollOptions,
) -> Result<Enrolled, EnrollError> {
    let dir = std::path::absolute(dir).map_err(|source| EnrollError::Directory {
        path: dir.to_owned(),
        source,
    })?;
    let config_path = dir.join(NODE_TOML);
    for existing in [NODE_TOML, NODE_CERTIFICATE, NODE_KEY] {
        if dir.join(existing).exists() {
            return Err(EnrollError::AlreadyEnrolled(dir.join(existing)));
        }
    }
    files::ensure_dir(&dir).map_err(|source| EnrollError::Directory {
        path: dir.clone(),
        source,
    })?;
    let credential = Credential::generate()?;
    let node_name = join_control_plane(join, &credential, options.connect_timeout).await?;
    let config = AgentConfig {
        control_address: join.address().to_owned(),
        control_pin: join.pin(),
        node_name: node_name.clone(),
        listen: options.listen,
        fallback: options.fallback,
        allow_private_destinations: options.allow_private_destinations,
        certificate: dir.join(NODE_CERTIFICATE),
        key: dir.join(NODE_KEY),
        cache_dir: dir.clone(),
        http: None,
    };
    credential.write(&config.certificate, &config.key)?;
    files::create_private(&config_path, config.to_toml().as_bytes()).map_err(|source| {
        EnrollError::Write {
            path: config_path.clone(),
            source,
        }
    })?;
    Ok(Enrolled {
        node_name,
        config_path,
    })
}

/// Presents `credential` with the join token; the node's name when accepted.
async fn join_control_plane(
    join: &JoinString,
    credential: &Credential,
    connect_timeout: Duration,
) -> Result<String, EnrollError> {
    let (certificate, key) = credential.tls_parts()?;
    let tls = feed_wire::tls::client_config(join.pin(), certificate, key)?;
    let mut link = Link::dial(join.address(), Arc::new(tls), connect_timeout).await?;
    link.send(&ToControl::Join {
        protocol_version: feed_wire::PROTOCOL_VERSION,
        token: join.token(),
    })
    .await?;
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, link.recv())
        .await
        .map_err(|_| LinkError::Timeout)??;
    link.close().await;
    match answer {
        ToNode::Joined { node_name } => Ok(node_name),
        ToNode::Refused { reason } => Err(EnrollError::Refused(reason)),
        _ => Err(LinkError::Protocol("the answer to Join is neither Joined nor Refused").into()),
    }
}
