//! `[nodes.NAME]`: a remote node's settings kept in milly.toml, with the keys `milly node set`
//! takes. `milly serve` applies them to the node registered under NAME (`milly node add`) when
//! it starts; for the keys a section names the file wins, the others keep what `node add` and
//! `node set` made. Only keys that are set are applied, so every key is optional.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validate::{host_port, invalid, Invalid};

/// Every `[nodes.NAME]` section, by node name.
pub type RemoteNodeSections = BTreeMap<String, RemoteNodeSection>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteNodeSection {
    /// Shown to users in their apps, e.g. "🇩🇪 Frankfurt".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `host:port` clients connect to: the node server's public address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// REALITY: `host:port` of the TLS 1.3 website strangers are relayed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest: Option<String>,
    /// REALITY: the server names (SNI) accepted; clients are told the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_names: Option<Vec<String>>,
    /// In links and subscriptions, or left out of them (`milly node enable|disable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The node's place in links and subscriptions (smaller first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// How clients carry VLESS to the node, as `[node] transports` (xhttp and grpc on any
    /// node, ws and httpupgrade on TLS nodes only; all at the node's secret path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<crate::NodeTransport>>,
}

impl RemoteNodeSection {
    /// The keys this section sets, as written in the file.
    pub fn named_keys(&self) -> Vec<&'static str> {
        [
            ("location", self.location.is_some()),
            ("address", self.address.is_some()),
            ("dest", self.dest.is_some()),
            ("server_names", self.server_names.is_some()),
            ("transports", self.transports.is_some()),
            ("enabled", self.enabled.is_some()),
            ("position", self.position.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }
}

pub(crate) fn validate(sections: &RemoteNodeSections) -> Result<(), Invalid> {
    for (name, section) in sections {
        let key = |k: &str| format!("nodes.{name}.{k}");
        if name.trim().is_empty() {
            return Err(invalid("nodes", "a node's name must not be empty"));
        }
        if section
            .location
            .as_ref()
            .is_some_and(|l| l.trim().is_empty())
        {
            return Err(invalid(key("location"), "must not be empty"));
        }
        if let Some(address) = &section.address {
            host_port(
                &key("address"),
                address,
                "must be host:port, where clients connect",
            )?;
        }
        if let Some(dest) = &section.dest {
            host_port(&key("dest"), dest, "must be host:port of a TLS 1.3 website")?;
        }
        if let Some(names) = &section.server_names {
            if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
                return Err(invalid(
                    key("server_names"),
                    "needs at least one name, and names must not be empty",
                ));
            }
        }
        if let Some(transports) = &section.transports {
            let twice = transports
                .iter()
                .enumerate()
                .any(|(i, t)| transports[..i].contains(t));
            if transports.is_empty() || twice {
                return Err(invalid(
                    key("transports"),
                    "must name at least one transport, each once",
                ));
            }
            if let Some(t) = transports.iter().find(|t| !t.supported()) {
                return Err(invalid(
                    key("transports"),
                    format!("`{}` is not yet supported by this build", t.name()),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
mod tests {
    use figment::Jail;

    use crate::load;

    const SECTION: &str = "[nodes.de-1]\nlocation = \"🇩🇪 Frankfurt\"\naddress = \"203.0.113.5:443\"\ndest = \"www.microsoft.com:443\"\nserver_names = [\"www.microsoft.com\", \"microsoft.com\"]\n";

    #[test]
    fn a_section_per_node_is_read_with_only_the_keys_it_names() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "milly.toml",
                &format!(
                    "{SECTION}[nodes.nl-1]\nenabled = false\ntransports = [\"tcp\", \"ws\"]\n"
                ),
            )?;
            let c = load(&jail.directory().join("milly.toml"), true)
                .unwrap()
                .config;
            let de = &c.nodes["de-1"];
            assert_eq!(de.location.as_deref(), Some("🇩🇪 Frankfurt"));
            assert_eq!(
                de.named_keys(),
                ["location", "address", "dest", "server_names"]
            );
            assert_eq!(c.nodes["nl-1"].named_keys(), ["transports", "enabled"]);
            assert_eq!(
                c.nodes["nl-1"].transports,
                Some(vec![crate::NodeTransport::Tcp, crate::NodeTransport::Ws])
            );
            assert_eq!(c.nodes["nl-1"].enabled, Some(false));
            Ok(())
        });
    }

    #[test]
    fn environment_variables_reach_sections_of_lower_case_names() {
        Jail::expect_with(|jail| {
            jail.create_file("milly.toml", "[nodes.fi_1]\nlocation = \"FI\"\n")?;
            jail.set_env("MILLY_NODES__FI_1__ADDRESS", "198.51.100.9:443");
            jail.set_env("MILLY_NODES__FI_1__POSITION", "3");
            jail.set_env("MILLY_NODES__SE_1__SERVER_NAMES", "[\"www.example.org\"]");
            let c = load(&jail.directory().join("milly.toml"), true)
                .unwrap()
                .config;
            let fi = &c.nodes["fi_1"];
            assert_eq!(fi.location.as_deref(), Some("FI"));
            assert_eq!(fi.address.as_deref(), Some("198.51.100.9:443"));
            assert_eq!(fi.position, Some(3));
            assert_eq!(
                c.nodes["se_1"].server_names,
                Some(vec!["www.example.org".to_owned()])
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_and_unknown_keys_name_the_node_and_the_key() {
        for (body, key) in [
            ("address = \"203.0.113.5\"", "nodes.de-1.address"),
            ("address = \":443\"", "nodes.de-1.address"),
            ("dest = \"www.example.org:0\"", "nodes.de-1.dest"),
            ("server_names = []", "nodes.de-1.server_names"),
            ("transports = []", "nodes.de-1.transports"),
            ("transports = [\"tcp\", \"tcp\"]", "nodes.de-1.transports"),
            ("transports = [\"grpc\", \"grpc\"]", "nodes.de-1.transports"),
            ("transports = [\"quic\"]", "transports"),
            ("location = \" \"", "nodes.de-1.location"),
            ("adress = \"203.0.113.5:443\"", "adress"),
        ] {
            Jail::expect_with(|jail| {
                jail.create_file("milly.toml", &format!("[nodes.de-1]\n{body}\n"))?;
                let msg = load(&jail.directory().join("milly.toml"), true)
                    .unwrap_err()
                    .to_string();
                assert!(
                    msg.contains("milly.toml") && msg.contains(key),
                    "{body}: {msg}"
                );
                Ok(())
            });
        }
    }
}
