//! A remote node's transports (`milly node add --transports`, `node set transports=`,
//! `[nodes.NAME] transports`): the same names and rules as the embedded node's `[node]
//! transports`. The HTTP ones share one secret path per node, made here when the first of them
//! is turned on and kept while any is; it lives with the node's public settings because every
//! user's link carries it (it keeps scanners out, not users).

use anyhow::{bail, Result};
use config::{NodeTransport as Name, HTTPUPGRADE_PATH_SUFFIX, WS_PATH_SUFFIX};
use domain::NodeTransport;

use crate::data_dir;

const ALL: [Name; 5] = [
    Name::Tcp,
    Name::Ws,
    Name::Httpupgrade,
    Name::Xhttp,
    Name::Grpc,
];

/// The names in `list` (`tcp,ws`): known, served by this build, each once, at least one.
pub fn names(list: &str) -> Result<Vec<Name>> {
    let mut out = Vec::new();
    for word in list.split(',').map(str::trim) {
        let Some(name) = ALL.into_iter().find(|n| n.name() == word) else {
            bail!("unknown transport `{word}`: tcp, ws or httpupgrade");
        };
        if !name.supported() {
            bail!("transport `{word}` is not yet supported by this build");
        }
        if out.contains(&name) {
            bail!("transport `{word}` is named twice");
        }
        out.push(name);
    }
    Ok(out)
}

/// What a REALITY node may take: `tcp` alone (REALITY carries no HTTP transport here).
pub fn check_reality(list: &str) -> Result<()> {
    if names(list)? != [Name::Tcp] {
        bail!(
            "ws and httpupgrade need a TLS node (`--security tls`): a REALITY node carries tcp only"
        );
    }
    Ok(())
}

/// A TLS node's transports as its links and the node take them, in the operator's order, the
/// HTTP ones under the node's current secret path (`current`), or a new one if it has none.
/// Plain TCP alone is stored as no list, as a node added before transports existed.
pub fn for_tls(list: &str, current: &[NodeTransport]) -> Result<Vec<NodeTransport>> {
    let names = names(list)?;
    if names == [Name::Tcp] {
        return Ok(Vec::new());
    }
    let base = match current_base(current) {
        Some(base) => base,
        None => format!("/{}", data_dir::random_secret()?),
    };
    Ok(names
        .into_iter()
        .filter_map(|name| match name {
            Name::Tcp => Some(NodeTransport::Tcp),
            Name::Ws => Some(NodeTransport::Ws {
                path: format!("{base}{WS_PATH_SUFFIX}"),
            }),
            Name::Httpupgrade => Some(NodeTransport::Httpupgrade {
                path: format!("{base}{HTTPUPGRADE_PATH_SUFFIX}"),
            }),
            // Refused by `names`.
            Name::Xhttp | Name::Grpc => None,
        })
        .collect())
}

/// The secret path the node's HTTP transports share now, if any is on.
fn current_base(current: &[NodeTransport]) -> Option<String> {
    current.iter().find_map(|t| match t {
        NodeTransport::Tcp => None,
        NodeTransport::Ws { path } => path.strip_suffix(WS_PATH_SUFFIX).map(str::to_owned),
        NodeTransport::Httpupgrade { path } => path
            .strip_suffix(HTTPUPGRADE_PATH_SUFFIX)
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_served_each_once() {
        assert_eq!(names("tcp, ws").unwrap(), [Name::Tcp, Name::Ws]);
        for bad in ["", "tcp,tcp", "quic", "tcp,grpc", "xhttp"] {
            assert!(names(bad).is_err(), "{bad}");
        }
        assert!(check_reality("tcp").is_ok());
        let err = check_reality("tcp,ws").unwrap_err().to_string();
        assert!(err.contains("--security tls"), "{err}");
    }

    #[test]
    fn http_transports_share_one_secret_path_kept_while_any_is_on() {
        assert_eq!(for_tls("tcp", &[]).unwrap(), []);
        let first = for_tls("ws,tcp,httpupgrade", &[]).unwrap();
        let [NodeTransport::Ws { path: ws }, NodeTransport::Tcp, NodeTransport::Httpupgrade { path: up }] =
            first.as_slice()
        else {
            panic!("{first:?}")
        };
        let base = ws.strip_suffix("/ws").unwrap();
        assert!(base.len() > 20 && base.starts_with('/'), "{base}");
        assert_eq!(up, &format!("{base}/up"));
        // Another node gets another path; this node keeps its own.
        assert_ne!(for_tls("ws", &[]).unwrap(), for_tls("ws", &[]).unwrap());
        let kept = for_tls("tcp,httpupgrade", &first).unwrap();
        assert_eq!(
            kept,
            [
                NodeTransport::Tcp,
                NodeTransport::Httpupgrade { path: up.clone() }
            ]
        );
        assert!(for_tls("tcp,quic", &first).is_err());
    }
}
