//! `milly init`: a commented milly.toml with fresh secrets, never overwriting an existing one;
//! with `--systemd` also the units that run it (`systemd`).

mod systemd;

use anyhow::{bail, Context, Result};

use crate::cli::InitArgs;
use crate::data_dir;

/// Where a systemd install keeps its data (the units' `StateDirectory=milly`).
const SYSTEMD_DATA_DIR: &str = "/var/lib/milly";

pub fn run(args: &InitArgs) -> Result<()> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("milly.toml");
    if path.exists() {
        bail!(
            "{} already exists; milly init never overwrites a configuration",
            path.display()
        );
    }
    let config_path =
        std::path::absolute(&path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let units = if args.systemd {
        Some(systemd::Units::for_this_binary(&config_path)?)
    } else {
        None
    };
    let reality = super::keygen::RealityKeys::generate();
    let mut text = config::render_template(&config::TemplateSecrets {
        admin_token: data_dir::random_secret()?,
        reality_private_key: reality.private_key,
        reality_short_id: reality.short_id,
        http_path: format!("/{}", data_dir::random_secret()?),
    });
    if args.systemd {
        text = with_data_dir(&text, SYSTEMD_DATA_DIR)?;
    }
    data_dir::write_private(&path, &text)?;
    println!("wrote {}", path.display());
    if let Some(units) = units {
        for written in units.write(&args.unit_dir, &args.sysusers_dir)? {
            println!("wrote {}", written.display());
        }
        println!("next, as root:");
        println!("  systemd-sysusers                      # creates the milly user");
        println!("  chgrp milly {0} && chmod 0640 {0}", config_path.display());
        println!(
            "  edit {} (at least [node] public_host)",
            config_path.display()
        );
        println!("  milly doctor --config {}", config_path.display());
        println!("  systemctl daemon-reload && systemctl enable --now milly");
        println!("  systemctl reload milly                # after editing plans, prices or texts");
    } else {
        println!(
            "next: edit it (at least [node] public_host), then `milly serve --config {}`",
            path.display()
        );
    }
    Ok(())
}

/// The template with `[service] data_dir` set to `dir`.
fn with_data_dir(template: &str, dir: &str) -> Result<String> {
    const DEFAULT_LINE: &str = "data_dir = \"./milly-data\"";
    if !template.contains(DEFAULT_LINE) {
        bail!("the configuration template has no `{DEFAULT_LINE}` line to replace");
    }
    Ok(template.replacen(DEFAULT_LINE, &format!("data_dir = \"{dir}\""), 1))
}
