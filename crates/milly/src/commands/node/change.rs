//! One change to a remote node, as `milly node set NAME KEY=VALUE` or a key of its
//! `[nodes.NAME]` section in milly.toml says it: both go through here, so the two accept the
//! same keys and mean the same by them.

use anyhow::{bail, Context as _, Result};
use app::App;
use domain::{Location, NodePrivateSettings, NodeSecurity, NodeSpec};

use super::split_address;
use crate::commands::keygen::RealityKeys;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    Location(Location),
    Address {
        host: String,
        port: u16,
    },
    /// REALITY: where strangers go and whose certificate is mirrored.
    Dest(String),
    /// REALITY: the server names accepted; clients are told the first.
    ServerNames(Vec<String>),
    /// REALITY: a new key pair and short id (never from the file: it is an act, not a value).
    RotateKeys,
    Enabled(bool),
    Position(i64),
}

const USAGE: &str = "location=TEXT, address=HOST:PORT, dest=HOST:PORT, server-name=NAME, \
                     server-names=NAME,NAME, keys=rotate, enabled=true|false or position=N";

impl NodeChange {
    /// `KEY=VALUE` as `milly node set` takes it.
    pub fn parse(change: &str) -> Result<Self> {
        let (key, value) = change
            .split_once('=')
            .with_context(|| format!("`{change}` is not KEY=VALUE"))?;
        Ok(match key {
            "location" => Self::Location(Location(value.to_owned())),
            "address" => {
                let (host, port) = split_address(value)?;
                Self::Address { host, port }
            }
            "dest" => {
                split_address(value).context("dest")?;
                Self::Dest(value.to_owned())
            }
            "server-name" => Self::ServerNames(vec![value.to_owned()]),
            "server-names" => Self::ServerNames(value.split(',').map(str::to_owned).collect()),
            "keys" if value == "rotate" => Self::RotateKeys,
            "enabled" => Self::Enabled(
                value
                    .parse()
                    .ok()
                    .with_context(|| format!("`{change}`: enabled=true or enabled=false"))?,
            ),
            "position" => Self::Position(
                value
                    .parse()
                    .ok()
                    .with_context(|| format!("`{change}`: position is a whole number"))?,
            ),
            _ => bail!("unknown change `{change}`: {USAGE}"),
        })
        .and_then(Self::checked)
    }

    /// What a `[nodes.NAME]` section sets, in the order `node set` would apply it.
    pub fn from_section(section: &config::RemoteNodeSection) -> Result<Vec<Self>> {
        let mut changes = Vec::new();
        if let Some(location) = &section.location {
            changes.push(Self::Location(Location(location.clone())));
        }
        if let Some(address) = &section.address {
            let (host, port) = split_address(address).context("address")?;
            changes.push(Self::Address { host, port });
        }
        if let Some(dest) = &section.dest {
            split_address(dest).context("dest")?;
            changes.push(Self::Dest(dest.clone()));
        }
        if let Some(names) = &section.server_names {
            changes.push(Self::ServerNames(names.clone()));
        }
        if let Some(enabled) = section.enabled {
            changes.push(Self::Enabled(enabled));
        }
        if let Some(position) = section.position {
            changes.push(Self::Position(position));
        }
        changes.into_iter().map(Self::checked).collect()
    }

    fn checked(self) -> Result<Self> {
        match &self {
            Self::Location(l) if l.0.trim().is_empty() => bail!("location must not be empty"),
            Self::ServerNames(names)
                if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) =>
            {
                bail!("server names must not be empty")
            }
            _ => Ok(self),
        }
    }

    /// The `[nodes.NAME]` key that sets the same thing, if the file can.
    pub fn file_key(&self) -> Option<&'static str> {
        Some(match self {
            Self::Location(_) => "location",
            Self::Address { .. } => "address",
            Self::Dest(_) => "dest",
            Self::ServerNames(_) => "server_names",
            Self::Enabled(_) => "enabled",
            Self::Position(_) => "position",
            Self::RotateKeys => return None,
        })
    }

    /// Applies a change of what clients and the node are told; the switches (`enabled`,
    /// `position`) are not settings and leave both alone.
    fn apply(&self, spec: &mut NodeSpec, private: &mut NodePrivateSettings) -> Result<()> {
        let reality = match (&mut spec.security, &mut *private) {
            (
                NodeSecurity::Reality(public),
                NodePrivateSettings::Reality {
                    private_key,
                    short_ids,
                    dest,
                    server_names,
                    ..
                },
            ) => Some((public, private_key, short_ids, dest, server_names)),
            _ => None,
        };
        match (self, reality) {
            (Self::Location(location), _) => spec.location = location.clone(),
            (Self::Address { host, port }, _) => {
                (spec.public_host, spec.port) = (host.clone(), *port)
            }
            (Self::Dest(value), Some((_, _, _, dest, _))) => *dest = value.clone(),
            (Self::ServerNames(names), Some((public, _, _, _, server_names))) => {
                // Checked non-empty when parsed.
                public.server_name = names.first().cloned().unwrap_or_default();
                *server_names = names.clone();
            }
            (Self::RotateKeys, Some((public, private_key, short_ids, _, _))) => {
                let keys = RealityKeys::generate();
                public.public_key = keys.public_key;
                public.short_id = keys.short_id.clone();
                *private_key = keys.private_key;
                *short_ids = vec![keys.short_id];
            }
            (Self::Dest(_) | Self::ServerNames(_) | Self::RotateKeys, None) => {
                bail!("{} is for REALITY nodes", self.describe())
            }
            (Self::Enabled(_) | Self::Position(_), _) => {}
        }
        Ok(())
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::RotateKeys => "keys=rotate",
            Self::Dest(_) => "dest",
            Self::ServerNames(_) => "a server name",
            _ => "this change",
        }
    }
}

/// Applies `changes` to the remote node `name` through `app`: settings in one update (pushed
/// to the node within a second), then its switches. Only what differs is written, so applying
/// the same section at every start costs the node nothing. Returns whether anything changed.
pub async fn apply(app: &App, name: &str, changes: &[NodeChange]) -> Result<bool> {
    let (node, before) = app.remote_node_settings(name).await?;
    let (mut spec, mut private) = (node.spec.clone(), before.clone());
    for change in changes {
        change.apply(&mut spec, &mut private)?;
    }
    let mut changed = false;
    if spec != node.spec || private != before {
        app.update_remote_node(name, &spec, &private).await?;
        changed = true;
    }
    for change in changes {
        match *change {
            NodeChange::Enabled(enabled) if enabled != node.enabled => {
                app.set_node_enabled(name, enabled).await?;
                changed = true;
            }
            NodeChange::Position(position) if position != node.position => {
                app.set_node_position(name, position).await?;
                changed = true;
            }
            _ => {}
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use domain::{NodeId, RealityParams, TlsParams};

    use super::*;

    fn reality() -> (NodeSpec, NodePrivateSettings) {
        let spec = NodeSpec {
            id: NodeId(1),
            name: "de-1".into(),
            location: Location("DE".into()),
            public_host: "203.0.113.5".into(),
            port: 443,
            security: NodeSecurity::Reality(RealityParams {
                public_key: "public".into(),
                short_id: "6ba85179e30d4fc2".into(),
                server_name: "www.example.org".into(),
                mldsa65_verify: None,
            }),
        };
        let private = NodePrivateSettings::Reality {
            private_key: "private".into(),
            short_ids: vec!["6ba85179e30d4fc2".into()],
            dest: "www.example.org:443".into(),
            server_names: vec!["www.example.org".into()],
            max_time_diff_ms: 60_000,
        };
        (spec, private)
    }

    #[test]
    fn set_and_the_file_mean_the_same_by_each_key() {
        let section = config::RemoteNodeSection {
            location: Some("🇩🇪 Frankfurt".into()),
            address: Some("[2001:db8::1]:8443".into()),
            dest: Some("www.microsoft.com:443".into()),
            server_names: Some(vec!["www.microsoft.com".into(), "microsoft.com".into()]),
            enabled: Some(false),
            position: Some(4),
        };
        let from_file = NodeChange::from_section(&section).unwrap();
        let from_set: Vec<_> = [
            "location=🇩🇪 Frankfurt",
            "address=[2001:db8::1]:8443",
            "dest=www.microsoft.com:443",
            "server-names=www.microsoft.com,microsoft.com",
            "enabled=false",
            "position=4",
        ]
        .iter()
        .map(|c| NodeChange::parse(c).unwrap())
        .collect();
        assert_eq!(from_file, from_set);
        let keys: Vec<_> = from_set.iter().filter_map(NodeChange::file_key).collect();
        assert_eq!(keys, section.named_keys());

        let (mut spec, mut private) = reality();
        for change in &from_file {
            change.apply(&mut spec, &mut private).unwrap();
        }
        assert_eq!(spec.location.0, "🇩🇪 Frankfurt");
        assert_eq!(
            (spec.public_host.as_str(), spec.port),
            ("2001:db8::1", 8443)
        );
        let NodeSecurity::Reality(public) = &spec.security else {
            panic!("still REALITY")
        };
        assert_eq!(
            public.server_name, "www.microsoft.com",
            "clients get the first"
        );
        let NodePrivateSettings::Reality {
            dest, server_names, ..
        } = &private
        else {
            panic!("still REALITY")
        };
        assert_eq!(dest, "www.microsoft.com:443");
        assert_eq!(server_names, &["www.microsoft.com", "microsoft.com"]);
    }

    #[test]
    fn bad_changes_are_refused() {
        for bad in [
            "location",
            "location= ",
            "address=203.0.113.5",
            "dest=www.example.org",
            "server-names=a,,b",
            "enabled=maybe",
            "position=first",
            "keys=keep",
            "colour=blue",
        ] {
            assert!(NodeChange::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn reality_keys_on_a_tls_node_are_refused() {
        let (mut spec, _) = reality();
        spec.security = NodeSecurity::Tls(TlsParams {
            server_name: "node.example".into(),
            allow_insecure: true,
        });
        let mut private = NodePrivateSettings::Tls {
            certificate_pem: String::new(),
            private_key_pem: String::new(),
        };
        for change in ["dest=www.example.org:443", "server-name=x", "keys=rotate"] {
            let change = NodeChange::parse(change).unwrap();
            assert!(change.apply(&mut spec, &mut private).is_err());
        }
    }

    #[test]
    fn rotating_keys_gives_a_new_pair_and_short_id() {
        let (mut spec, mut private) = reality();
        let (before_spec, before_private) = (spec.clone(), private.clone());
        NodeChange::RotateKeys
            .apply(&mut spec, &mut private)
            .unwrap();
        assert_ne!(spec.security, before_spec.security);
        assert_ne!(private, before_private);
    }
}
