//! Reading the configuration: the TOML file (if any), then `MILLY_<SECTION>__<KEY>` variables on
//! top, then defaults for what neither sets, then validation.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;

use crate::validate::validate;
use crate::{Config, DatabaseUrl};

/// Where the configuration came from, so `milly serve` can say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    /// No file: built-in defaults plus environment variables.
    EmbeddedDefault,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub source: ConfigSource,
}

/// Every message names where the problem is (file or variable) and the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("config file {0} does not exist (run `milly init` to create one)")]
    Missing(PathBuf),
    #[error("cannot read config file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{origin}: {what}")]
    Invalid { origin: String, what: String },
}

const ENV_PREFIX: &str = "MILLY_";

/// Loads `path`. A missing file is an error only when the operator named it explicitly;
/// otherwise milly runs on its embedded defaults.
pub fn load(path: &Path, explicit: bool) -> Result<Loaded, ConfigError> {
    let exists = path.is_file();
    if !exists && (explicit || path.exists()) {
        return Err(if path.exists() {
            ConfigError::Unreadable {
                path: path.to_owned(),
                reason: "not a regular file".into(),
            }
        } else {
            ConfigError::Missing(path.to_owned())
        });
    }
    let source = if exists {
        ConfigSource::File(path.to_owned())
    } else {
        ConfigSource::EmbeddedDefault
    };
    if exists {
        // Read it ourselves first so an unreadable file is reported as such, not as "empty".
        std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            path: path.to_owned(),
            reason: e.kind().to_string(),
        })?;
    }
    let mut figment = Figment::new();
    if exists {
        figment = figment.merge(Toml::file_exact(path));
    }
    // Only SECTION__KEY variables are configuration; MILLY_CONFIG and others are not.
    figment = figment.merge(
        Env::prefixed(ENV_PREFIX)
            .filter(|k| k.as_str().contains("__"))
            .split("__"),
    );
    let origin_file = path.display().to_string();
    let mut config: Config = figment
        .extract()
        .map_err(|e| describe_figment_error(e, &origin_file, exists))?;

    let base_dir = match &source {
        ConfigSource::File(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        ConfigSource::EmbeddedDefault => PathBuf::new(),
    };
    resolve_paths(&mut config, &base_dir);
    validate(&config).map_err(|v| ConfigError::Invalid {
        origin: origin_of_key(&v.key, &origin_file, exists),
        what: format!("key `{}`: {}", v.key, v.message),
    })?;
    Ok(Loaded { config, source })
}

/// Relative paths in a file are relative to the file's directory, so `milly serve --config
/// /etc/milly/milly.toml` behaves the same from any working directory.
fn resolve_paths(config: &mut Config, base: &Path) {
    let abs = |p: &Path| {
        if p.is_relative() {
            base.join(p)
        } else {
            p.to_path_buf()
        }
    };
    config.service.data_dir = abs(&config.service.data_dir);
    if let Some(c) = &config.node.tls.cert {
        config.node.tls.cert = Some(abs(c));
    }
    if let Some(k) = &config.node.tls.key {
        config.node.tls.key = Some(abs(k));
    }
    if let Some(f) = &config.web.acme_ca_file {
        config.web.acme_ca_file = Some(abs(f));
    }
    if let Some(url) = config.web.https_origin().and_then(|o| o.parse().ok()) {
        // The operator left public_url at its default: links point at the HTTPS site.
        if config.service.public_url == domain::PublicUrl::default() {
            config.service.public_url = url;
        }
    }
    config.backup.dir = Some(match &config.backup.dir {
        Some(d) => abs(d),
        None => config.service.data_dir.join("backups"),
    });
    if config.node.reality.server_names.is_empty() {
        if let Some(host) = config.node.reality.dest_host() {
            config.node.reality.server_names = vec![host.to_owned()];
        }
    }
    let url = config.database.url.expose().trim().to_owned();
    config.database.url = DatabaseUrl::new(if url.is_empty() {
        format!(
            "sqlite://{}?mode=rwc",
            config.service.data_dir.join("milly.db").display()
        )
    } else if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
        let file = if file.is_empty() || file == ":memory:" {
            PathBuf::from(file)
        } else {
            abs(Path::new(file))
        };
        let query = if query.is_empty() {
            "mode=rwc".to_owned()
        } else {
            query.to_owned()
        };
        format!("sqlite://{}?{}", file.display(), query)
    } else {
        url
    });
}

/// TOML parse errors come with a multi-line source excerpt; the operator gets one line:
/// position, then what is wrong.
fn one_line(message: &str) -> String {
    let is_excerpt = |l: &str| {
        let t = l.trim_start();
        t.is_empty()
            || t.starts_with('|')
            || t.split_once(" |")
                .is_some_and(|(n, _)| n.trim().chars().all(|c| c.is_ascii_digit()))
    };
    message
        .lines()
        .filter(|l| !is_excerpt(l))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Says which environment variable set a key when one did, else the file.
fn origin_of_key(key: &str, file: &str, file_exists: bool) -> String {
    let var = env_var_for_key(key);
    if std::env::var_os(&var).is_some() {
        format!("environment variable {var}")
    } else if file_exists {
        format!("config file {file}")
    } else {
        "built-in defaults".to_owned()
    }
}

/// `node.tls.cert` → `MILLY_NODE__TLS__CERT`; list indices are dropped.
pub(crate) fn env_var_for_key(key: &str) -> String {
    let parts: Vec<String> = key
        .split('.')
        .map(|p| p.split('[').next().unwrap_or(p).to_ascii_uppercase())
        .collect();
    format!("{ENV_PREFIX}{}", parts.join("__"))
}

fn describe_figment_error(err: figment::Error, file: &str, file_exists: bool) -> ConfigError {
    let key = err.path.join(".");
    let from_env = err
        .metadata
        .as_ref()
        .map(|m| m.name.contains("environment"))
        .unwrap_or(false);
    let origin = if from_env {
        format!("environment variable {}", env_var_for_key(&key))
    } else if file_exists {
        format!("config file {file}")
    } else {
        "built-in defaults".to_owned()
    };
    let kind = one_line(&err.kind.to_string());
    let what = if key.is_empty() {
        kind
    } else {
        format!("key `{key}`: {kind}")
    };
    ConfigError::Invalid { origin, what }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
mod tests {
    use super::*;
    use figment::Jail;

    fn message(result: Result<Loaded, ConfigError>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn no_file_means_embedded_defaults() {
        Jail::expect_with(|jail| {
            let loaded = load(&jail.directory().join("milly.toml"), false).unwrap();
            assert_eq!(loaded.source, ConfigSource::EmbeddedDefault);
            assert_eq!(loaded.config.web.listen.to_string(), "127.0.0.1:8080");
            assert!(loaded.config.database.url.expose().starts_with("sqlite://"));
            assert!(loaded
                .config
                .database
                .url
                .expose()
                .contains("milly-data/milly.db"));
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_named_explicitly_is_an_error() {
        Jail::expect_with(|jail| {
            let msg = message(load(&jail.directory().join("nope.toml"), true));
            assert!(
                msg.contains("nope.toml") && msg.contains("does not exist"),
                "{msg}"
            );
            Ok(())
        });
    }

    #[test]
    fn environment_variables_override_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file("milly.toml", "[web]\nlisten = \"127.0.0.1:9000\"\n")?;
            jail.set_env("MILLY_WEB__LISTEN", "127.0.0.1:9001");
            jail.set_env(
                "MILLY_TELEGRAM__TOKEN",
                "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            );
            jail.set_env("MILLY_TELEGRAM__ADMINS", "[1, 2]");
            jail.set_env("MILLY_YOOKASSA__SHOP_ID", "506751");
            jail.set_env("MILLY_CONFIG", "ignored.toml");
            let c = load(&jail.directory().join("milly.toml"), true)
                .unwrap()
                .config;
            assert_eq!(c.web.listen.to_string(), "127.0.0.1:9001");
            assert_eq!(
                c.telegram.token.expose(),
                "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            );
            assert_eq!(c.telegram.admins, vec![1, 2]);
            assert_eq!(c.yookassa.shop_id.expose(), "506751");
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_come_from_the_file_or_the_environment_and_are_checked() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "milly.toml",
                "[web]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nforwarded_header = \"Forwarded\"\n",
            )?;
            let c = load(&jail.directory().join("milly.toml"), true)
                .unwrap()
                .config;
            assert_eq!(c.web.trusted_proxies.len(), 2);
            assert_eq!(c.web.forwarded_header.to_string(), "forwarded");
            jail.set_env("MILLY_WEB__TRUSTED_PROXIES", "[\"192.0.2.0/24\"]");
            let c = load(&jail.directory().join("milly.toml"), true)
                .unwrap()
                .config;
            assert_eq!(c.web.trusted_proxies, vec!["192.0.2.0/24".parse().unwrap()]);
            jail.set_env("MILLY_WEB__TRUSTED_PROXIES", "[\"192.0.2.0/33\"]");
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(msg.contains("MILLY_WEB__TRUSTED_PROXIES"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_names_the_file_and_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "milly.toml",
                "[web]\nlisten = \"127.0.0.1:9000\"\nlisen = 1\n",
            )?;
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(msg.contains("milly.toml") && msg.contains("lisen"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn a_public_url_that_is_not_http_names_the_file_and_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "milly.toml",
                "[service]\npublic_url = \"ftp://vpn.example\"\n",
            )?;
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(
                msg.contains("milly.toml") && msg.contains("service.public_url"),
                "{msg}"
            );
            Ok(())
        });
    }

    #[test]
    fn acme_makes_the_default_public_url_the_https_site_and_keeps_an_operators_own() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "milly.toml",
                "[web]\ntls = \"acme\"\ndomain = \"vpn.example.com\"\n",
            )?;
            let path = jail.directory().join("milly.toml");
            let c = load(&path, true).expect("loads").config;
            assert_eq!(c.service.public_url.as_str(), "https://vpn.example.com");
            jail.set_env("MILLY_WEB__HTTPS_LISTEN", "0.0.0.0:8443");
            let c = load(&path, true).expect("loads").config;
            assert_eq!(
                c.service.public_url.as_str(),
                "https://vpn.example.com:8443"
            );
            jail.set_env("MILLY_SERVICE__PUBLIC_URL", "https://www.example.com");
            let c = load(&path, true).expect("loads").config;
            assert_eq!(c.service.public_url.as_str(), "https://www.example.com");
            Ok(())
        });
    }

    #[test]
    fn a_public_url_from_the_environment_is_parsed_once() {
        Jail::expect_with(|jail| {
            jail.set_env("MILLY_SERVICE__PUBLIC_URL", "https://vpn.example/");
            let c = load(&jail.directory().join("milly.toml"), false)
                .expect("loads")
                .config;
            assert_eq!(
                c.service.public_url.join_path("/privacy"),
                "https://vpn.example/privacy"
            );
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file("milly.toml", "[web]\nlisten = \"not an address\"\n")?;
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(
                msg.contains("milly.toml") && msg.contains("web.listen"),
                "{msg}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        Jail::expect_with(|jail| {
            jail.set_env("MILLY_WEB__LISTEN", "nowhere");
            let msg = message(load(&jail.directory().join("milly.toml"), false));
            assert!(msg.contains("MILLY_WEB__LISTEN"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn malformed_toml_is_reported_with_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file("milly.toml", "[web\nlisten = \n")?;
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(
                msg.contains("milly.toml") && msg.contains("line 1"),
                "{msg}"
            );
            assert_eq!(msg.lines().count(), 1, "{msg}");
            Ok(())
        });
    }

    const REALITY_NODE: &str = "[node]\nsecurity = \"reality\"\n[node.reality]\nprivate_key = \"SL2oS5M7XTc0bFvhcMKsjb1qCrfWsZ0PtnbScjvdeUE\"\nshort_ids = [\"6ba85179e30d4fc2\"]\ndest = \"www.example.com:443\"\n";

    #[test]
    fn an_mldsa65_seed_of_the_wrong_length_names_the_file_and_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "milly.toml",
                &format!("{REALITY_NODE}mldsa65_seed = \"AQEBAQEB\"\n"),
            )?;
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(
                msg.contains("milly.toml") && msg.contains("node.reality.mldsa65_seed"),
                "{msg}"
            );
            Ok(())
        });
    }

    #[test]
    fn an_mldsa65_seed_can_come_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file("milly.toml", REALITY_NODE)?;
            let seed = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
            jail.set_env("MILLY_NODE__REALITY__MLDSA65_SEED", seed);
            let c = load(&jail.directory().join("milly.toml"), true)
                .unwrap()
                .config;
            assert_eq!(c.node.reality.mldsa65_seed.expose(), seed);
            jail.set_env("MILLY_NODE__REALITY__MLDSA65_SEED", "short");
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(msg.contains("MILLY_NODE__REALITY__MLDSA65_SEED"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn a_bad_database_url_is_refused() {
        Jail::expect_with(|jail| {
            jail.create_file("milly.toml", "[database]\nurl = \"mysql://x@y/z\"\n")?;
            let msg = message(load(&jail.directory().join("milly.toml"), true));
            assert!(msg.contains("database.url"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        Jail::expect_with(|jail| {
            std::fs::create_dir(jail.directory().join("etc")).unwrap();
            jail.create_file("etc/milly.toml", "[service]\ndata_dir = \"data\"\n")?;
            let path = jail.directory().join("etc/milly.toml");
            let c = load(&path, true).unwrap().config;
            assert_eq!(c.service.data_dir, jail.directory().join("etc/data"));
            assert!(c.database.url.expose().contains("etc/data/milly.db"));
            Ok(())
        });
    }

    #[test]
    fn env_var_names_follow_the_key_path() {
        assert_eq!(env_var_for_key("node.tls.cert"), "MILLY_NODE__TLS__CERT");
        assert_eq!(env_var_for_key("plans[1].days"), "MILLY_PLANS__DAYS");
    }
}
