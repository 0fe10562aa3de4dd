//! `milly node add|list|show|remove|disable|enable|token`: the operator's remote nodes, on the
//! control plane. What a node server runs (`milly node join|run`) is in `node_agent.rs`.
//! `milly node set` and the `[nodes.NAME]` sections of milly.toml go through `change` (and
//! this file's `apply_change`), so both take the same keys and mean the same by them.

mod change;
pub mod from_config;
mod transports;

use anyhow::{bail, Context as _, Result};
use app::{App, NodeOverview, Registered, RemoteNodePlan};
use domain::{Location, NodePrivateSettings, NodeSecurity, RealityParams, TlsParams};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::keygen::RealityKeys;
use crate::cli::{NodeAddArgs, NodeCommand, SecurityChoice};
use change::NodeChanges;

pub async fn run(app: &App, config: &config::Config, cmd: NodeCommand) -> Result<()> {
    match cmd {
        NodeCommand::Add(args) => {
            // Everything that can refuse comes before anything is stored.
            let address = control_address(config)?;
            let plan = plan(&args)?;
            let registered = app.add_remote_node(&plan).await?;
            print_join(app, &address, &registered).await?;
        }
        NodeCommand::Token { name } => {
            let address = control_address(config)?;
            let registered = app.renew_join_token(&name).await?;
            print_join(app, &address, &registered).await?;
        }
        NodeCommand::Set { name, changes } => {
            // `via=` first: an exit that cannot be refuses everything before it is stored.
            let (via, changes) = via_change(changes);
            let changes = NodeChanges::parse(&changes)?;
            from_config::refuse_file_keys(config, &name, &changes.file_keys())?;
            if let Some(via) = &via {
                app.set_node_via(&name, via.as_deref()).await?;
            }
            if change::apply(app, &name, &changes).await? || via.is_some() {
                println!("node {name} updated; it serves with the new settings within a second");
            } else {
                println!("node {name} already has these settings");
            }
        }
        NodeCommand::List => {
            let revision = app.access_revision().await?;
            print_list(&app.node_overview().await?, revision);
        }
        NodeCommand::Show { name } => {
            let all = app.node_overview().await?;
            let node = all
                .iter()
                .find(|n| n.record.spec.name == name)
                .with_context(|| format!("there is no node called `{name}`"))?;
            print_node(node);
        }
        NodeCommand::Remove { name } => {
            app.remove_node(&name).await?;
            println!("node {name} removed: its credential no longer opens the feed");
        }
        NodeCommand::Disable { name } => {
            from_config::refuse_file_keys(config, &name, &["enabled"])?;
            app.set_node_enabled(&name, false).await?;
            println!("node {name} disabled: left out of links and subscriptions from now on");
        }
        NodeCommand::Enable { name } => {
            from_config::refuse_file_keys(config, &name, &["enabled"])?;
            app.set_node_enabled(&name, true).await?;
            println!("node {name} enabled: back in links and subscriptions");
        }
        // Dispatched to `node_agent` before a store is opened.
        NodeCommand::Join { .. } | NodeCommand::Run => {
            bail!("`milly node join` and `milly node run` run on the node's server")
        }
    }
    Ok(())
}

/// What `node add` registers: the address split, fresh keys made here (the control plane
/// keeps them and pushes them to the node, so rotating them never needs a re-join).
pub(crate) fn plan(args: &NodeAddArgs) -> Result<RemoteNodePlan> {
    let (host, port) = split_address(&args.address)?;
    let (security, private) = match args.security {
        SecurityChoice::Reality => {
            let dest = args
                .dest
                .clone()
                .unwrap_or_else(|| config::DEFAULT_REALITY_DEST.to_owned());
            let (dest_host, _) = split_address(&dest).context("--dest")?;
            let server_name = args.server_name.clone().unwrap_or(dest_host);
            let keys = RealityKeys::generate();
            (
                NodeSecurity::Reality(RealityParams {
                    public_key: keys.public_key,
                    short_id: keys.short_id.clone(),
                    server_name: server_name.clone(),
                    mldsa65_verify: None,
                    transports: transports::for_node(&args.transports, true, &[])
                        .context("--transports")?,
                }),
                NodePrivateSettings::Reality {
                    private_key: keys.private_key,
                    short_ids: vec![keys.short_id],
                    dest,
                    server_names: vec![server_name],
                    max_time_diff_ms: config::NodeRealityConfig::default().max_time_diff_ms,
                },
            )
        }
        SecurityChoice::Tls => {
            let (certificate_pem, private_key_pem, allow_insecure) =
                match (&args.certificate, &args.private_key) {
                    (Some(certificate), Some(key)) => {
                        (read_pem(certificate)?, read_pem(key)?, false)
                    }
                    _ => {
                        let (certificate, key) = self_signed(&host)?;
                        (certificate, key, true)
                    }
                };
            let private = NodePrivateSettings::Tls {
                certificate_pem,
                private_key_pem,
            };
            check_certificate(&private)?;
            (
                NodeSecurity::Tls(TlsParams {
                    server_name: host.clone(),
                    allow_insecure,
                    transports: transports::for_node(&args.transports, false, &[])
                        .context("--transports")?,
                }),
                private,
            )
        }
    };
    if args.security == SecurityChoice::Reality && args.certificate.is_some() {
        bail!("--certificate is for --security tls (a REALITY node borrows dest's certificate)");
    }
    Ok(RemoteNodePlan {
        location: Location(args.location.clone().unwrap_or_else(|| args.name.clone())),
        name: args.name.clone(),
        public_host: host,
        port,
        security,
        private,
        via: args.via.clone(),
    })
}

/// A certificate or key file an operator names, read whole.
fn read_pem(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A new self-signed certificate for `host` (clients are told to allow it).
fn self_signed(host: &str) -> Result<(String, String)> {
    node::generate_self_signed(&[host.to_owned()]).context("cannot make the node's certificate")
}

/// Refuses a TLS certificate and key the node could not serve with, before it is stored and
/// pushed (a node given a bad pair would stop accepting anyone).
fn check_certificate(private: &NodePrivateSettings) -> Result<()> {
    if let NodePrivateSettings::Tls {
        certificate_pem,
        private_key_pem,
    } = private
    {
        node::tls::server_config(&node::TlsSource::Pem {
            cert: certificate_pem.clone(),
            key: private_key_pem.clone(),
        })
        .context("the node cannot serve with this certificate and key")?;
    }
    Ok(())
}

/// `milly node set`'s changes, applied in order, then checked together (a certificate and
/// its key are changed in one command).
fn apply_changes(
    spec: &mut domain::NodeSpec,
    private: &mut NodePrivateSettings,
    changes: &[String],
) -> Result<()> {
    for change in changes {
        apply_change(spec, private, change)?;
    }
    check_certificate(private)
}

/// One `key=value` of `milly node set`.
fn apply_change(
    spec: &mut domain::NodeSpec,
    private: &mut NodePrivateSettings,
    change: &str,
) -> Result<()> {
    let (key, value) = change
        .split_once('=')
        .with_context(|| format!("`{change}` is not KEY=VALUE"))?;
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
    match (key, reality) {
        ("location", _) => spec.location = Location(value.to_owned()),
        ("transports", _) => match &mut spec.security {
            NodeSecurity::Tls(public) => {
                public.transports = transports::for_node(value, false, &public.transports)?;
            }
            NodeSecurity::Reality(public) => {
                public.transports = transports::for_node(value, true, &public.transports)?;
            }
        },
        ("address", _) => (spec.public_host, spec.port) = split_address(value)?,
        ("dest", Some((_, _, _, dest, _))) => {
            split_address(value).context("dest")?;
            *dest = value.to_owned();
        }
        ("server-name", Some((public, _, _, _, server_names))) => {
            public.server_name = value.to_owned();
            *server_names = vec![value.to_owned()];
        }
        // Several names the node accepts; clients are told the first.
        ("server-names", Some((public, _, _, _, server_names))) => {
            let names: Vec<String> = value.split(',').map(str::to_owned).collect();
            if names.iter().any(|n| n.trim().is_empty()) {
                bail!("`{change}`: server names must not be empty");
            }
            public.server_name = names.first().cloned().unwrap_or_default();
            *server_names = names;
        }
        ("keys", Some((public, private_key, short_ids, _, _))) if value == "rotate" => {
            let keys = RealityKeys::generate();
            public.public_key = keys.public_key;
            public.short_id = keys.short_id.clone();
            *private_key = keys.private_key;
            *short_ids = vec![keys.short_id];
        }
        ("dest" | "keys", None) => bail!("`{key}` is for REALITY nodes"),
        ("server-name" | "certificate" | "private-key", None) => {
            apply_tls_change(spec, private, key, value)?
        }
        ("certificate" | "private-key", Some(_)) => {
            bail!("`{key}` is for TLS nodes (a REALITY node borrows dest's certificate)")
        }
        _ => bail!(
            "unknown change `{change}`: location=TEXT, address=HOST:PORT, enabled=true|false, \
             position=N, via=EXIT|none, transports=tcp[,xhttp][,grpc][,ws][,httpupgrade] (ws \
             and httpupgrade for TLS); for REALITY dest=HOST:PORT, server-name=NAME, \
             server-names=A,B or keys=rotate; for TLS certificate=FILE private-key=FILE \
             (together), certificate=self-signed or server-name=NAME"
        ),
    }
    Ok(())
}

/// A TLS node's `server-name`, `certificate` and `private-key`. An operator's certificate is
/// one clients verify; `certificate=self-signed` goes back to a generated one they must allow.
fn apply_tls_change(
    spec: &mut domain::NodeSpec,
    private: &mut NodePrivateSettings,
    key: &str,
    value: &str,
) -> Result<()> {
    let (
        NodeSecurity::Tls(public),
        NodePrivateSettings::Tls {
            certificate_pem,
            private_key_pem,
        },
    ) = (&mut spec.security, private)
    else {
        bail!("`{key}` does not fit this node's security");
    };
    match key {
        "server-name" => public.server_name = value.to_owned(),
        "certificate" if value == "self-signed" => {
            (*certificate_pem, *private_key_pem) = self_signed(&spec.public_host)?;
            public.server_name = spec.public_host.clone();
            public.allow_insecure = true;
        }
        "certificate" => {
            *certificate_pem = read_pem(std::path::Path::new(value))?;
            public.allow_insecure = false;
        }
        _ => *private_key_pem = read_pem(std::path::Path::new(value))?,
    }
    Ok(())
}

/// `host:port` or `[v6]:port`.
fn split_address(address: &str) -> Result<(String, u16)> {
    let (host, port) = address
        .rsplit_once(':')
        .with_context(|| format!("`{address}` is not HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        bail!("`{address}` has no host");
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .with_context(|| format!("`{address}` has no valid port"))?;
    Ok((host.to_owned(), port))
}

/// `via=EXIT` (`Some(Some(EXIT))`) or `via=none` (`Some(None)`) among `node set`'s changes (the
/// last one counts), and the other changes.
fn via_change(changes: Vec<String>) -> (Option<Option<String>>, Vec<String>) {
    let mut via = None;
    let mut rest = Vec::with_capacity(changes.len());
    for change in changes {
        match change.strip_prefix("via=") {
            Some("none") => via = Some(None),
            Some(exit) => via = Some(Some(exit.to_owned())),
            None => rest.push(change),
        }
    }
    (via, rest)
}

async fn print_join(app: &App, address: &str, registered: &Registered) -> Result<()> {
    let identity = control::ControlIdentity::load_or_create(app).await?;
    let join = identity.join_string(address, &registered.token)?;
    let name = &registered.node.spec.name;
    println!("node {name} registered; enrol it within the hour, once, on its server:");
    println!();
    println!("  milly node join '{join}' --dir /etc/milly-node");
    println!("  milly node run --config /etc/milly-node/node.toml");
    println!();
    println!(
        "The join string is valid until {}.",
        date(registered.expires_at)
    );
    Ok(())
}

/// Where nodes dial: `[control] public_address`, or public_url's host with the port of
/// `[control] listen`.
pub(crate) fn control_address(config: &config::Config) -> Result<String> {
    if let Some(address) = &config.control.public_address {
        return Ok(address.clone());
    }
    let Some(listen) = config.control.listen else {
        bail!(
            "remote nodes need [control] listen (e.g. \"0.0.0.0:7443\") in milly.toml, \
             or MILLY_CONTROL__LISTEN: it is where they dial for their feed"
        );
    };
    let host = config.service.public_url.host();
    Ok(if host.contains(':') {
        format!("[{host}]:{}", listen.port())
    } else {
        format!("{host}:{}", listen.port())
    })
}

/// One line per node; LAG is how many access revisions its table is behind the store's
/// `revision` (blocks and expiries it has not applied yet).
fn print_list(nodes: &[NodeOverview], revision: i64) {
    println!(
        "{:<12}  {:<16}  {:<24}  {:<8}  {:<9}  {:<9}  {:>8}  {:>5}  {:>6}  {:>12}",
        "NAME",
        "LOCATION",
        "ADDRESS",
        "KIND",
        "STATE",
        "VERSION",
        "REVISION",
        "LAG",
        "CONNS",
        "BYTES"
    );
    for node in nodes {
        let spec = &node.record.spec;
        let status = node.status.as_ref();
        println!(
            "{:<12}  {:<16}  {:<24}  {:<8}  {:<9}  {:<9}  {:>8}  {:>5}  {:>6}  {:>12}",
            spec.name,
            spec.location,
            format!("{}:{}", spec.public_host, spec.port),
            node.record.kind.as_str(),
            state(node),
            status.map_or("-", |s| s.software_version.as_str()),
            status.map_or_else(|| "-".into(), |s| s.applied_revision.to_string()),
            node.revision_lag(revision)
                .map_or_else(|| "-".into(), |lag| lag.to_string()),
            status.map_or_else(|| "-".into(), |s| s.connections.to_string()),
            status.map_or_else(|| "-".into(), |s| (s.bytes_up + s.bytes_down).to_string()),
        );
    }
}

fn print_node(node: &NodeOverview) {
    let spec = &node.record.spec;
    println!("name:         {}", spec.name);
    println!("location:     {}", spec.location);
    println!("address:      {}:{}", spec.public_host, spec.port);
    println!("kind:         {}", node.record.kind.as_str());
    println!("state:        {}", state(node));
    println!("position:     {}", node.record.position);
    let security = match &spec.security {
        NodeSecurity::Reality(r) => {
            format!("reality (sni {}, short id {})", r.server_name, r.short_id)
        }
        NodeSecurity::Tls(t) => format!("tls (sni {})", t.server_name),
    };
    println!("security:     {security}");
    // Names only: the HTTP transports' secret path is in users' links, not here.
    let transports: Vec<&str> = spec.transports().iter().map(|t| t.link_type()).collect();
    println!("transports:   {}", transports.join(", "));
    if let Some(exit) = &node.via_name {
        println!("exit:         {exit} (users' connections leave from there)");
    }
    println!(
        "enrolled:     {}",
        if node.record.credential.is_some() {
            "yes"
        } else {
            "no (join string not used yet)"
        }
    );
    if let Some(s) = &node.status {
        println!("version:      {}", s.software_version);
        println!("revision:     {}", s.applied_revision);
        println!("connections:  {}", s.connections);
        println!("bytes:        {} up, {} down", s.bytes_up, s.bytes_down);
        println!("last seen:    {}", date(s.last_seen_at));
    }
}

fn state(node: &NodeOverview) -> &'static str {
    match (node.record.enabled, node.online) {
        (false, _) => "disabled",
        (true, None) => "embedded",
        (true, Some(true)) => "online",
        (true, Some(false)) => "offline",
    }
}

fn date(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            split_address("203.0.113.5:443").unwrap(),
            ("203.0.113.5".into(), 443)
        );
        assert_eq!(
            split_address("[2001:db8::1]:8443").unwrap(),
            ("2001:db8::1".into(), 8443)
        );
        assert_eq!(
            split_address("vpn.example.com:443").unwrap(),
            ("vpn.example.com".into(), 443)
        );
        for bad in ["vpn.example.com", ":443", "host:0", "host:99999", "host:x"] {
            assert!(split_address(bad).is_err(), "{bad} must be refused");
        }
    }

    fn tls_node() -> (domain::NodeSpec, NodePrivateSettings) {
        let (certificate_pem, private_key_pem) = self_signed("node.example.com").unwrap();
        let spec = domain::NodeSpec {
            id: domain::NodeId(1),
            name: "de-1".into(),
            location: Location("🇩🇪 Frankfurt".into()),
            public_host: "node.example.com".into(),
            port: 443,
            exits_via: None,
            security: NodeSecurity::Tls(TlsParams {
                server_name: "node.example.com".into(),
                allow_insecure: true,
                transports: Vec::new(),
            }),
        };
        let private = NodePrivateSettings::Tls {
            certificate_pem,
            private_key_pem,
        };
        (spec, private)
    }

    fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    #[test]
    fn an_operators_certificate_replaces_the_self_signed_one_and_is_verified_by_clients() {
        let (mut spec, mut private) = tls_node();
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed("vpn.example.org").unwrap();
        let changes = [
            format!("certificate={}", write(dir.path(), "fullchain.pem", &cert)),
            format!("private-key={}", write(dir.path(), "privkey.pem", &key)),
            "server-name=vpn.example.org".to_owned(),
        ];
        apply_changes(&mut spec, &mut private, &changes).unwrap();
        let NodeSecurity::Tls(public) = &spec.security else {
            panic!("still TLS")
        };
        assert_eq!(public.server_name, "vpn.example.org");
        assert!(
            !public.allow_insecure,
            "an operator's certificate is verified"
        );
        assert!(
            matches!(&private, NodePrivateSettings::Tls { certificate_pem, private_key_pem }
                if *certificate_pem == cert && *private_key_pem == key)
        );

        apply_changes(&mut spec, &mut private, &["certificate=self-signed".into()]).unwrap();
        let NodeSecurity::Tls(public) = &spec.security else {
            panic!("still TLS")
        };
        assert!(public.allow_insecure && public.server_name == "node.example.com");
    }

    #[test]
    fn a_certificate_without_its_key_or_with_reality_changes_is_refused() {
        let (mut spec, mut private) = tls_node();
        let before = private.clone();
        let dir = tempfile::tempdir().unwrap();
        let (other_cert, _) = self_signed("vpn.example.org").unwrap();
        let only_cert = [format!(
            "certificate={}",
            write(dir.path(), "fullchain.pem", &other_cert)
        )];
        let err = apply_changes(&mut spec.clone(), &mut private, &only_cert).unwrap_err();
        assert!(format!("{err:#}").contains("cannot serve"), "{err:#}");
        private = before;
        for change in [
            "keys=rotate",
            "dest=www.example.com:443",
            "certificate=/nonexistent",
        ] {
            assert!(
                apply_changes(&mut spec, &mut private.clone(), &[change.to_owned()]).is_err(),
                "{change} must be refused on a TLS node"
            );
        }
    }
}
