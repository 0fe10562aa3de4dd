//! The systemd units of `milly init --systemd`: `contrib/systemd`'s files (the documented
//! ones, usable as they are for /usr/local/bin/milly and /etc/milly) with this binary's and
//! this configuration's paths put in.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

const SERVICE: &str = include_str!("../../../../../contrib/systemd/milly.service");
const NODE_SERVICE: &str = include_str!("../../../../../contrib/systemd/milly-node.service");
const SYSUSERS: &str = include_str!("../../../../../contrib/systemd/milly.sysusers");

/// The paths the contrib files name.
const CONTRIB_BINARY: &str = "/usr/local/bin/milly";
const CONTRIB_CONFIG: &str = "/etc/milly/milly.toml";

pub struct Units {
    service: String,
    node_service: String,
}

impl Units {
    /// Units that run the binary now running with the configuration at `config` (absolute).
    pub fn for_this_binary(config: &Path) -> Result<Self> {
        let binary = std::env::current_exe().context("cannot tell where this binary is")?;
        Self::new(&binary, config)
    }

    fn new(binary: &Path, config: &Path) -> Result<Self> {
        let binary = unit_path(binary)?;
        let config = unit_path(config)?;
        Ok(Self {
            service: SERVICE
                .replace(CONTRIB_BINARY, &binary)
                .replace(CONTRIB_CONFIG, &config),
            node_service: NODE_SERVICE.replace(CONTRIB_BINARY, &binary),
        })
    }

    /// Writes milly.service and milly-node.service into `unit_dir` and milly.conf into
    /// `sysusers_dir`, refusing to overwrite any of them; returns what it wrote.
    pub fn write(&self, unit_dir: &Path, sysusers_dir: &Path) -> Result<Vec<PathBuf>> {
        let files = [
            (unit_dir.join("milly.service"), self.service.as_str()),
            (
                unit_dir.join("milly-node.service"),
                self.node_service.as_str(),
            ),
            (sysusers_dir.join("milly.conf"), SYSUSERS),
        ];
        if let Some((existing, _)) = files.iter().find(|(path, _)| path.exists()) {
            bail!(
                "{} already exists; milly init never overwrites it",
                existing.display()
            );
        }
        for (path, text) in &files {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            // Units are not secret and systemd reads them as any user: 0644.
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(files.into_iter().map(|(path, _)| path).collect())
    }
}

/// A path as a unit file may hold it: absolute, and without whitespace or characters systemd
/// would expand (`%`, `$`, quotes, backslashes), which a unit line cannot hold plainly.
fn unit_path(path: &Path) -> Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    if !path.is_absolute()
        || text
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '%' | '$' | '"' | '\'' | '\\'))
    {
        bail!("{text} cannot go into a systemd unit as it is: use a path without spaces, %, $, quotes or backslashes");
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contrib_paths_give_the_contrib_files() {
        let units = Units::new(Path::new(CONTRIB_BINARY), Path::new(CONTRIB_CONFIG)).unwrap();
        assert_eq!(units.service, SERVICE);
        assert_eq!(units.node_service, NODE_SERVICE);
    }

    #[test]
    fn another_binary_and_configuration_are_put_in() {
        let units =
            Units::new(Path::new("/opt/milly/bin/milly"), Path::new("/srv/m.toml")).unwrap();
        assert!(units
            .service
            .contains("ExecStart=/opt/milly/bin/milly serve --config /srv/m.toml\n"));
        assert!(units.node_service.contains(
            "ExecStart=/opt/milly/bin/milly node run --config /var/lib/milly-node/node.toml\n"
        ));
        assert!(!units.service.contains(CONTRIB_BINARY));
    }

    #[test]
    fn paths_a_unit_line_cannot_hold_are_refused() {
        for bad in [
            "relative/milly",
            "/with space/milly",
            "/a%b/milly",
            "/a$b/milly",
        ] {
            assert!(unit_path(Path::new(bad)).is_err(), "{bad}");
        }
    }
}
