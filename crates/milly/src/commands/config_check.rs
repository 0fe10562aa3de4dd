//! `milly config check`: the effective configuration, validated, with secrets masked.

use anyhow::{Context, Result};

pub fn run(loaded: &config::Loaded) -> Result<()> {
    let source = match &loaded.source {
        config::ConfigSource::File(p) => {
            format!("{} (plus MILLY_* environment overrides)", p.display())
        }
        config::ConfigSource::EmbeddedDefault => {
            "no config file: embedded defaults (plus MILLY_* environment overrides)".to_owned()
        }
    };
    // Secret and DatabaseUrl serialize masked, so this never prints a secret.
    let text = toml::to_string_pretty(&loaded.config).context("cannot print the configuration")?;
    println!("# configuration OK: {source}\n{text}");
    Ok(())
}
