//! Each crate's settings, built once from `milly.toml`: `app`, `web` and `bot` take plain values
//! of their own and never read the configuration.

use std::time::Duration;

use config::Config;

/// The use cases' settings: the service, plans, payments, admins, retention and backups.
pub fn app(config: &Config) -> app::AppSettings {
    app::AppSettings {
        service_name: config.service.name.clone(),
        public_url: config.service.public_url.clone(),
        plans: config.domain_plans(),
        trial_days: config.trial.days,
        referrals: app::ReferralSettings {
            enabled: config.referrals.enabled,
            reward_days: config.referrals.reward_days,
            welcome_days: config.referrals.welcome_days,
        },
        stars_enabled: config.stars.enabled,
        yookassa: billing::YooKassaSettings {
            enabled: config.yookassa.enabled,
            shop_id: config.yookassa.shop_id.clone(),
            secret_key: config.yookassa.secret_key.clone(),
            api_url: config.yookassa.api_url.clone(),
            payment_methods: config.yookassa.payment_methods.clone(),
        },
        receipts: config.yookassa.receipts,
        receipt_email: config.yookassa.receipt_email.clone(),
        bot_api: billing::telegram_stars::BotApi {
            api_url: config.telegram.api_url.clone(),
            token: config.telegram.token.clone(),
        },
        admins: config.telegram.admins.clone(),
        support_chat_id: config.telegram.support_chat_id,
        retention_days: config.privacy.retention_days,
        backup: app::BackupSettings {
            dir: config
                .backup
                .dir
                .clone()
                .unwrap_or_else(|| config.service.data_dir.join("backups")),
            keep: config.backup.keep,
            recipients: config.backup.recipients.clone(),
            interval_hours: config.backup.interval_hours,
        },
    }
}

/// The website's settings: the service and its contacts, the plans on the home page, and who
/// a request comes from.
pub fn site(config: &Config) -> web::SiteSettings {
    web::SiteSettings {
        service_name: config.service.name.clone(),
        public_url: config.service.public_url.clone(),
        operator: config.service.operator.clone(),
        support_email: config.service.support_email.clone(),
        support_telegram: config.service.support_telegram.clone(),
        plans: config.domain_plans(),
        trial_days: config.trial.days,
        client_identity: config.client_identity(),
        build: web::Build {
            version: crate::build_info::VERSION.to_owned(),
            commit: crate::build_info::COMMIT.to_owned(),
        },
    }
}

/// The website server's budgets from `[web]` (at least one connection).
pub fn server_limits(config: &Config) -> web::server::ServerLimits {
    let web = &config.web;
    web::server::ServerLimits {
        header_read_timeout: Duration::from_secs(web.header_read_timeout_secs),
        keepalive_idle: Duration::from_secs(web.keepalive_idle_secs),
        request_timeout: Duration::from_secs(web.request_timeout_secs),
        max_connections: web.max_connections.max(1),
        shutdown_grace: web::server::DEFAULT_SHUTDOWN_GRACE,
    }
}

/// The bot's settings from `[telegram]`.
pub fn bot(config: &Config) -> bot::BotSettings {
    bot::BotSettings {
        token: config.telegram.token.clone(),
        api_url: config.telegram.api_url.clone(),
        webhook_url: config.telegram.webhook_url.clone(),
        reminder_days: config.telegram.reminder_days.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untouched_configuration_gives_the_settings_tests_start_from() {
        let config = Config::default();
        // The test settings reach no payment provider; everything else is the default.
        let built = app::AppSettings {
            yookassa: billing::YooKassaSettings::default(),
            bot_api: billing::telegram_stars::BotApi::default(),
            ..app(&config)
        };
        assert_eq!(built, app::AppSettings::default());
        let site = site(&config);
        let sample = web::SiteSettings::default();
        assert_eq!(
            (
                site.service_name,
                site.public_url,
                site.plans,
                site.trial_days
            ),
            (
                sample.service_name,
                sample.public_url,
                sample.plans,
                sample.trial_days
            )
        );
        assert_eq!(
            (site.operator, site.support_email, site.support_telegram),
            (
                sample.operator,
                sample.support_email,
                sample.support_telegram
            )
        );
    }

    #[test]
    fn backups_go_to_the_data_directory_unless_a_directory_is_set() {
        let mut config = Config::default();
        config.service.data_dir = "/srv/milly".into();
        assert_eq!(
            app(&config).backup.dir,
            std::path::Path::new("/srv/milly/backups")
        );
        config.backup.dir = Some("/backups".into());
        assert_eq!(app(&config).backup.dir, std::path::Path::new("/backups"));
    }

    #[test]
    fn a_zero_connection_cap_still_lets_one_connection_in() {
        let mut config = Config::default();
        config.web.max_connections = 0;
        assert_eq!(server_limits(&config).max_connections, 1);
    }
}
