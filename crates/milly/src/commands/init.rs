//! `milly init`: a commented milly.toml with fresh secrets, never overwriting an existing one.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::data_dir;

pub fn run(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("milly.toml");
    if path.exists() {
        bail!(
            "{} already exists; milly init never overwrites a configuration",
            path.display()
        );
    }
    let reality = super::keygen::RealityKeys::generate();
    let text = config::render_template(&config::TemplateSecrets {
        admin_token: data_dir::random_secret()?,
        reality_private_key: reality.private_key,
        reality_short_id: reality.short_id,
        http_path: format!("/{}", data_dir::random_secret()?),
    });
    data_dir::write_private(&path, &text)?;
    println!("wrote {}", path.display());
    println!(
        "next: edit it (at least [node] public_host), then `milly serve --config {}`",
        path.display()
    );
    Ok(())
}
