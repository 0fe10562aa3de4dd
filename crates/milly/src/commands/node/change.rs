//! What `milly node set NAME KEY=VALUE…` or a `[nodes.NAME]` section of milly.toml asks of a
//! remote node: settings (what clients and the node are told, applied by `apply_changes`, so
//! the file and the command take the same keys and mean the same by them) and switches
//! (`enabled`, `position`). Only what differs is written.

use anyhow::{bail, Context as _, Result};
use app::App;

/// Changes to one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeChanges {
    /// `KEY=VALUE` settings, in order, for [`super::apply_changes`].
    pub settings: Vec<String>,
    pub enabled: Option<bool>,
    pub position: Option<i64>,
}

impl NodeChanges {
    /// `milly node set`'s arguments: the switches taken out, the settings checked as far as
    /// they can be without the node (`apply_change` does the rest).
    pub fn parse(changes: &[String]) -> Result<Self> {
        let mut out = Self::default();
        for change in changes {
            let (key, value) = change
                .split_once('=')
                .with_context(|| format!("`{change}` is not KEY=VALUE"))?;
            match key {
                "enabled" => {
                    out.enabled = Some(
                        value
                            .parse()
                            .ok()
                            .with_context(|| format!("`{change}`: enabled=true or false"))?,
                    );
                }
                "position" => {
                    out.position = Some(
                        value
                            .parse()
                            .ok()
                            .with_context(|| format!("`{change}`: position is a whole number"))?,
                    );
                }
                "location" if value.trim().is_empty() => bail!("location must not be empty"),
                _ => out.settings.push(change.clone()),
            }
        }
        Ok(out)
    }

    /// What a `[nodes.NAME]` section sets (its values were checked when milly.toml was read).
    pub fn from_section(section: &config::RemoteNodeSection) -> Self {
        let mut settings = Vec::new();
        let mut set = |key: &str, value: Option<&String>| {
            if let Some(value) = value {
                settings.push(format!("{key}={value}"));
            }
        };
        set("location", section.location.as_ref());
        set("address", section.address.as_ref());
        set("dest", section.dest.as_ref());
        // One name is `server-name`, which TLS nodes take too.
        match section.server_names.as_deref() {
            Some([one]) => set("server-name", Some(one)),
            names => set("server-names", names.map(|n| n.join(",")).as_ref()),
        }
        let transports = section
            .transports
            .as_ref()
            .map(|list| list.iter().map(|t| t.name()).collect::<Vec<_>>().join(","));
        set("transports", transports.as_ref());
        Self {
            settings,
            enabled: section.enabled,
            position: section.position,
        }
    }

    /// The `[nodes.NAME]` keys that set what these changes do (none for `keys=rotate` and
    /// what else the file cannot hold).
    pub fn file_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self
            .settings
            .iter()
            .filter_map(|change| match change.split_once('=')?.0 {
                "location" => Some("location"),
                "address" => Some("address"),
                "dest" => Some("dest"),
                "server-name" | "server-names" => Some("server_names"),
                "transports" => Some("transports"),
                _ => None,
            })
            .collect();
        if self.enabled.is_some() {
            keys.push("enabled");
        }
        if self.position.is_some() {
            keys.push("position");
        }
        keys
    }
}

/// Applies `changes` to the remote node `name` through `app`: its settings in one update
/// (pushed to the node within a second), then its switches. Returns whether anything changed,
/// so the same section applied at every start costs the node nothing.
pub async fn apply(app: &App, name: &str, changes: &NodeChanges) -> Result<bool> {
    let (node, before) = app.remote_node_settings(name).await?;
    let (mut spec, mut private) = (node.spec.clone(), before.clone());
    super::apply_changes(&mut spec, &mut private, &changes.settings)?;
    let mut changed = false;
    if spec != node.spec || private != before {
        app.update_remote_node(name, &spec, &private).await?;
        changed = true;
    }
    if let Some(enabled) = changes.enabled.filter(|e| *e != node.enabled) {
        app.set_node_enabled(name, enabled).await?;
        changed = true;
    }
    if let Some(position) = changes.position.filter(|p| *p != node.position) {
        app.set_node_position(name, position).await?;
        changed = true;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use domain::{
        Location, NodeId, NodePrivateSettings, NodeSecurity, NodeSpec, RealityParams, TlsParams,
    };

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
                transports: Vec::new(),
            }),
            exits_via: None,
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

    fn args(changes: &[&str]) -> Vec<String> {
        changes.iter().map(|c| (*c).to_owned()).collect()
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
            transports: Some(vec![config::NodeTransport::Tcp]),
        };
        let from_file = NodeChanges::from_section(&section);
        let from_set = NodeChanges::parse(&args(&[
            "location=🇩🇪 Frankfurt",
            "address=[2001:db8::1]:8443",
            "dest=www.microsoft.com:443",
            "server-names=www.microsoft.com,microsoft.com",
            "transports=tcp",
            "enabled=false",
            "position=4",
        ]))
        .unwrap();
        assert_eq!(from_file, from_set);
        assert_eq!(from_set.file_keys(), section.named_keys());

        let (mut spec, mut private) = reality();
        super::super::apply_changes(&mut spec, &mut private, &from_file.settings).unwrap();
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
    fn one_server_name_in_the_file_is_server_name() {
        let section = config::RemoteNodeSection {
            server_names: Some(vec!["www.example.org".into()]),
            ..Default::default()
        };
        assert_eq!(
            NodeChanges::from_section(&section).settings,
            ["server-name=www.example.org"]
        );
    }

    #[test]
    fn keys_the_file_cannot_hold_name_no_file_key() {
        let changes = NodeChanges::parse(&args(&["keys=rotate", "server-name=x"])).unwrap();
        assert_eq!(changes.file_keys(), ["server_names"]);
    }

    #[test]
    fn bad_switches_and_an_empty_location_are_refused() {
        for bad in ["location", "location= ", "enabled=maybe", "position=first"] {
            assert!(
                NodeChanges::parse(&args(&[bad])).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn several_server_names_are_for_reality_nodes_and_none_may_be_empty() {
        let (mut spec, mut private) = reality();
        assert!(super::super::apply_change(&mut spec, &mut private, "server-names=a,,b").is_err());
        spec.security = NodeSecurity::Tls(TlsParams {
            server_name: "node.example".into(),
            allow_insecure: true,
            transports: Vec::new(),
        });
        let mut private = NodePrivateSettings::Tls {
            certificate_pem: String::new(),
            private_key_pem: String::new(),
        };
        assert!(super::super::apply_change(&mut spec, &mut private, "server-names=a,b").is_err());
    }

    #[test]
    fn ws_and_httpupgrade_are_for_tls_nodes_and_keep_their_path() {
        use domain::NodeTransport;
        let (mut spec, mut private) = reality();
        super::super::apply_change(&mut spec, &mut private, "transports=tcp").unwrap();
        let err = super::super::apply_change(&mut spec, &mut private, "transports=tcp,ws")
            .unwrap_err()
            .to_string();
        assert!(err.contains("TLS"), "{err}");
        assert_eq!(spec.transports(), [NodeTransport::Tcp]);
        spec.security = NodeSecurity::Tls(TlsParams {
            server_name: "node.example".into(),
            allow_insecure: true,
            transports: Vec::new(),
        });
        let mut private = NodePrivateSettings::Tls {
            certificate_pem: String::new(),
            private_key_pem: String::new(),
        };
        super::super::apply_change(&mut spec, &mut private, "transports=tcp,ws").unwrap();
        let transports = spec.transports();
        let [NodeTransport::Tcp, NodeTransport::Ws { path }] = transports.as_slice() else {
            panic!("{transports:?}")
        };
        let path = path.clone();
        super::super::apply_change(&mut spec, &mut private, "transports=ws,httpupgrade").unwrap();
        let up = path.replace("/ws", "/up");
        assert_eq!(
            spec.transports(),
            [
                NodeTransport::Ws { path },
                NodeTransport::Httpupgrade { path: up }
            ]
        );
        super::super::apply_change(&mut spec, &mut private, "transports=tcp").unwrap();
        assert_eq!(
            spec.security,
            NodeSecurity::Tls(TlsParams {
                server_name: "node.example".into(),
                allow_insecure: true,
                transports: Vec::new(),
            })
        );
    }

    #[test]
    fn a_reality_node_takes_xhttp_and_grpc_and_keys_rotate_without_losing_them() {
        use domain::NodeTransport;
        let (mut spec, mut private) = reality();
        super::super::apply_change(&mut spec, &mut private, "transports=tcp,xhttp,grpc").unwrap();
        let transports = spec.transports();
        let [NodeTransport::Tcp, NodeTransport::Xhttp { path }, NodeTransport::Grpc { service_name }] =
            transports.as_slice()
        else {
            panic!("{transports:?}")
        };
        assert_eq!(
            format!(
                "{}.grpc",
                path.strip_suffix("/xh").unwrap().trim_start_matches('/')
            ),
            *service_name
        );
        super::super::apply_change(&mut spec, &mut private, "keys=rotate").unwrap();
        assert_eq!(spec.transports(), transports);
        super::super::apply_change(&mut spec, &mut private, "transports=tcp").unwrap();
        let NodeSecurity::Reality(public) = &spec.security else {
            panic!("not REALITY")
        };
        assert!(public.transports.is_empty());
    }
}
