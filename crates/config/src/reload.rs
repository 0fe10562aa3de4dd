//! What `milly serve` takes from a changed file on SIGHUP without a restart: the plans and their
//! prices, the texts (service name, operator, support contacts), the trial, Stars on or off,
//! subscription format rules, the admins and support chat, retention and the log format.
//! Everything else (listeners, the node, the database, credentials, the public URL) keeps its
//! running value until a restart, and the reload names the sections where that happened.

use crate::validate::validate;
use crate::{Config, ConfigError};

/// The outcome of applying a newly loaded file to the running configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Reload {
    /// The running configuration with every reloadable key taken from the file.
    pub config: Config,
    /// Top-level sections whose other keys changed in the file: they wait for a restart.
    pub needs_restart: Vec<String>,
}

/// Applies the reloadable keys of `file` (loaded and validated) to `running`. The result is
/// validated again, since it mixes both (e.g. a plan without a card price while YooKassa stays
/// on until the restart).
pub fn reload(running: &Config, file: &Config) -> Result<Reload, ConfigError> {
    let mut next = running.clone();
    next.service.name.clone_from(&file.service.name);
    next.service.operator.clone_from(&file.service.operator);
    next.service
        .support_email
        .clone_from(&file.service.support_email);
    next.service
        .support_telegram
        .clone_from(&file.service.support_telegram);
    next.plans.clone_from(&file.plans);
    next.trial.clone_from(&file.trial);
    next.referrals.clone_from(&file.referrals);
    next.stars.clone_from(&file.stars);
    next.subscription.clone_from(&file.subscription);
    next.telegram.admins.clone_from(&file.telegram.admins);
    next.telegram.support_chat_id = file.telegram.support_chat_id;
    next.privacy.clone_from(&file.privacy);
    next.log.clone_from(&file.log);
    validate(&next).map_err(|v| ConfigError::Invalid {
        origin: "reload".into(),
        what: format!(
            "key `{}`: {} (with the rest of the running configuration; restart to apply both)",
            v.key, v.message
        ),
    })?;
    let needs_restart = sections_that_differ(&next, file);
    Ok(Reload {
        config: next,
        needs_restart,
    })
}

/// Top-level keys whose values differ. Secrets compare by their masked form, so a changed token
/// alone may go unnamed; it still waits for a restart.
fn sections_that_differ(a: &Config, b: &Config) -> Vec<String> {
    let (Ok(toml::Value::Table(a)), Ok(toml::Value::Table(b))) =
        (toml::Value::try_from(a), toml::Value::try_from(b))
    else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defaults as loading leaves them (paths and the database URL resolved).
    fn running() -> Config {
        let mut config = Config::default();
        config.database.url =
            crate::DatabaseUrl::new("sqlite:///var/lib/milly/milly.db?mode=rwc".to_owned());
        config
    }

    #[test]
    fn prices_and_texts_are_taken_and_nothing_waits() {
        let running = running();
        let mut file = running.clone();
        file.plans[0].price_stars = Some(777);
        file.service.name = "Other VPN".into();
        file.trial.days = 0;
        let outcome = reload(&running, &file).unwrap();
        assert_eq!(outcome.config, file);
        assert!(outcome.needs_restart.is_empty());
    }

    #[test]
    fn listeners_keep_their_running_values_and_are_named() {
        let running = running();
        let mut file = running.clone();
        file.web.listen = "127.0.0.1:9999".parse().unwrap();
        file.node.max_connections = 7;
        file.plans[0].days = 31;
        let outcome = reload(&running, &file).unwrap();
        assert_eq!(outcome.config.web.listen, running.web.listen);
        assert_eq!(
            outcome.config.node.max_connections,
            running.node.max_connections
        );
        assert_eq!(outcome.config.plans[0].days, 31);
        assert_eq!(
            outcome.needs_restart,
            vec!["node".to_owned(), "web".to_owned()]
        );
    }

    #[test]
    fn log_formats_parse_from_the_environment_s_spelling() {
        assert_eq!(
            "json".parse::<crate::LogFormat>(),
            Ok(crate::LogFormat::Json)
        );
        assert_eq!(
            " Text ".parse::<crate::LogFormat>(),
            Ok(crate::LogFormat::Text)
        );
        assert!("yaml".parse::<crate::LogFormat>().is_err());
    }

    #[test]
    fn a_configuration_that_fails_validation_is_refused_whole() {
        let running = running();
        let mut file = running.clone();
        file.plans[1].id = file.plans[0].id.clone();
        let err = reload(&running, &file).unwrap_err();
        assert!(err.to_string().contains("plans[1].id"), "{err}");
    }
}
