//! A remote node's transports (`milly node add --transports`, `node set transports=`,
//! `[nodes.NAME] transports`): the same names and rules as the embedded node's `[node]
//! transports` (over REALITY only tcp, xhttp and grpc). The HTTP ones share one secret path per node, made here when the first of them
//! is turned on and kept while any is; it lives with the node's public settings because every
//! user's link carries it (it keeps scanners out, not users).

use anyhow::{bail, Result};
use config::{
    grpc_service_name, NodeTransport as Name, GRPC_SERVICE_SUFFIX, HTTPUPGRADE_PATH_SUFFIX,
    WS_PATH_SUFFIX, XHTTP_PATH_SUFFIX,
};
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
            bail!("unknown transport `{word}`: tcp, ws, httpupgrade, xhttp or grpc");
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

/// A node's transports as its links and the node take them, in the operator's order, the
/// HTTP ones under the node's current secret path (found in `current`), or a new one if it
/// has none. Over REALITY only tcp, xhttp and grpc. Plain TCP alone is stored as no list, as
/// a node added before transports existed.
pub fn for_node(
    list: &str,
    reality: bool,
    current: &[NodeTransport],
) -> Result<Vec<NodeTransport>> {
    let names = names(list)?;
    if reality {
        if let Some(name) = names.iter().find(|n| !n.over_reality()) {
            bail!(
                "{} needs a TLS node (`--security tls`): a REALITY node carries tcp, xhttp and grpc",
                name.name()
            );
        }
    }
    if names == [Name::Tcp] {
        return Ok(Vec::new());
    }
    let base = match current_base(current) {
        Some(base) => base,
        None => format!("/{}", data_dir::random_secret()?),
    };
    let path = |suffix: &str| format!("{base}{suffix}");
    Ok(names
        .into_iter()
        .map(|name| match name {
            Name::Tcp => NodeTransport::Tcp,
            Name::Ws => NodeTransport::Ws {
                path: path(WS_PATH_SUFFIX),
            },
            Name::Httpupgrade => NodeTransport::Httpupgrade {
                path: path(HTTPUPGRADE_PATH_SUFFIX),
            },
            Name::Xhttp => NodeTransport::Xhttp {
                path: path(XHTTP_PATH_SUFFIX),
            },
            Name::Grpc => NodeTransport::Grpc {
                service_name: grpc_service_name(&base),
            },
        })
        .collect())
}

/// The secret path the node's HTTP transports share now, if any is on. gRPC's service name
/// gives it back only for a one-segment path, which is what [`for_node`] makes.
fn current_base(current: &[NodeTransport]) -> Option<String> {
    let from_path = current.iter().find_map(|t| match t {
        NodeTransport::Ws { path } => path.strip_suffix(WS_PATH_SUFFIX),
        NodeTransport::Httpupgrade { path } => path.strip_suffix(HTTPUPGRADE_PATH_SUFFIX),
        NodeTransport::Xhttp { path } => path.strip_suffix(XHTTP_PATH_SUFFIX),
        NodeTransport::Tcp | NodeTransport::Grpc { .. } => None,
    });
    if let Some(base) = from_path {
        return Some(base.to_owned());
    }
    current.iter().find_map(|t| match t {
        NodeTransport::Grpc { service_name } => service_name
            .strip_suffix(GRPC_SERVICE_SUFFIX)
            .filter(|segment| !segment.is_empty() && !segment.contains('.'))
            .map(|segment| format!("/{segment}")),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_served_each_once() {
        assert_eq!(names("tcp, ws").unwrap(), [Name::Tcp, Name::Ws]);
        assert_eq!(names("grpc,xhttp").unwrap(), [Name::Grpc, Name::Xhttp]);
        for bad in ["", "tcp,tcp", "quic", "tcp,grpc,grpc"] {
            assert!(names(bad).is_err(), "{bad}");
        }
        assert_eq!(for_node("tcp", true, &[]).unwrap(), []);
        for refused in ["tcp,ws", "httpupgrade"] {
            let err = for_node(refused, true, &[]).unwrap_err().to_string();
            assert!(err.contains("--security tls"), "{err}");
        }
    }

    #[test]
    fn reality_takes_xhttp_and_grpc_under_one_secret_path() {
        let on = for_node("xhttp,tcp,grpc", true, &[]).unwrap();
        let [NodeTransport::Xhttp { path }, NodeTransport::Tcp, NodeTransport::Grpc { service_name }] =
            on.as_slice()
        else {
            panic!("{on:?}")
        };
        let base = path.strip_suffix("/xh").unwrap();
        assert!(base.len() > 20 && base.starts_with('/'), "{base}");
        assert_eq!(service_name, &format!("{}.grpc", &base[1..]));
        assert!(!service_name.contains('/'));
        // gRPC alone still keeps the path, so turning XHTTP back on finds it.
        let grpc = for_node("grpc", true, &on).unwrap();
        assert_eq!(grpc, [on[2].clone()]);
        assert_eq!(for_node("tcp,xhttp", false, &grpc).unwrap()[1], on[0]);
    }

    #[test]
    fn http_transports_share_one_secret_path_kept_while_any_is_on() {
        assert_eq!(for_node("tcp", false, &[]).unwrap(), []);
        let first = for_node("ws,tcp,httpupgrade", false, &[]).unwrap();
        let [NodeTransport::Ws { path: ws }, NodeTransport::Tcp, NodeTransport::Httpupgrade { path: up }] =
            first.as_slice()
        else {
            panic!("{first:?}")
        };
        let base = ws.strip_suffix("/ws").unwrap();
        assert!(base.len() > 20 && base.starts_with('/'), "{base}");
        assert_eq!(up, &format!("{base}/up"));
        // Another node gets another path; this node keeps its own.
        assert_ne!(
            for_node("ws", false, &[]).unwrap(),
            for_node("ws", false, &[]).unwrap()
        );
        let kept = for_node("tcp,httpupgrade", false, &first).unwrap();
        assert_eq!(
            kept,
            [
                NodeTransport::Tcp,
                NodeTransport::Httpupgrade { path: up.clone() }
            ]
        );
        assert!(for_node("tcp,quic", false, &first).is_err());
    }
}
