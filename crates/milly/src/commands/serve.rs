//! `milly serve`: the website, the embedded node and the access feed, until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use domain::{Location, NodeSecurity, RealityParams, TlsParams};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{admin_api, data_dir, feed, node_tls};

/// How long running work gets to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long startup waits for Telegram to say the bot's username.
const BOT_LOOKUP: Duration = Duration::from_secs(5);
/// Pause before restarting a bot that failed.
const BOT_RESTART: Duration = Duration::from_secs(30);

pub async fn run(loaded: config::Loaded) -> Result<()> {
    let config = Arc::new(loaded.config);
    match &loaded.source {
        config::ConfigSource::File(p) => println!("config: {}", p.display()),
        config::ConfigSource::EmbeddedDefault => println!(
            "config: none found, running on embedded defaults in {}",
            config.service.data_dir.display()
        ),
    }
    let app = super::open_app(&config).await?;
    println!("database: {}", app.store().backend());
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let mut node_metrics = None;
    if config.node.enabled {
        let node_config = node_tls::node_config(&config)?;
        let listener = TcpListener::bind(config.node.listen)
            .await
            .with_context(|| format!("cannot listen on node.listen {}", config.node.listen))?;
        let access = node::AccessTable::new();
        tasks.spawn(feed::run(
            app.store().clone(),
            access.clone(),
            shutdown.clone(),
        ));
        let node = node::Node::new(node_config, access).context("cannot start the node")?;
        node_metrics = Some(node.metrics());
        let node_shutdown = shutdown.clone();
        tasks.spawn(async move {
            node.run(listener, node_shutdown)
                .await
                .context("node stopped")
        });
        let security = match config.node.security {
            config::NodeSecurityKind::Tls => "tls",
            config::NodeSecurityKind::Reality => "reality",
        };
        println!(
            "node: vless+{security} on {} (clients connect to {}:{})",
            config.node.listen,
            config.node.public_host,
            config.node.advertised_port()
        );
    } else {
        println!("node: disabled");
    }

    let admin_token = if config.admin.token.is_set() {
        config.admin.token.expose().to_owned()
    } else {
        data_dir::read_or_create(
            &config.service.data_dir,
            "admin-token",
            data_dir::random_secret,
        )?
        .trim()
        .to_owned()
    };
    let web_listener = TcpListener::bind(config.web.listen)
        .await
        .with_context(|| format!("cannot listen on web.listen {}", config.web.listen))?;
    let bot_options = bot_options(&config)?;
    let mut site = web::Site::new(config.clone())
        .with_app(app.clone())
        .with_format_rules(format_rules(&config))
        .with_data_inventory(inventory_rows(&config));
    if bot_options.is_some() {
        if let Some(name) = bot_username(&app).await {
            site = site.with_bot_username(&name);
        }
    }
    let admin = admin_api::router(admin_api::AdminState {
        token: Arc::new(admin_token),
        store: app.store().clone(),
        node_metrics,
    });
    // The admin routes get the site's headers and error pages, so probes see one website.
    let mut router = web::router_with(site, admin);
    if let Some(options) = bot_options
        .as_ref()
        .filter(|_| !config.telegram.webhook_url.is_empty())
    {
        let hook = bot::webhook_router(app.clone(), options, shutdown.clone())
            .context("cannot set up the Telegram webhook")?;
        router = router.merge(hook);
    }
    if config.yookassa.enabled {
        let y = &config.yookassa;
        let policy = billing::SourcePolicy::new(y.check_source_ip, &y.trusted_proxy_header);
        let cards =
            billing::Billing::new(app.clone(), policy).context("cannot start card payments")?;
        router = router.merge(billing::router(cards.clone()));
        if let Some(options) = bot_options.clone() {
            let paid = cards.subscribe();
            tasks.spawn(announce_card_payments(
                app.clone(),
                options,
                paid,
                shutdown.clone(),
            ));
        }
        let every = Duration::from_secs(y.reconcile_interval_secs);
        let reconciler_shutdown = shutdown.clone();
        tasks.spawn(async move {
            billing::run_reconciler(cards, every, reconciler_shutdown).await;
            Ok(())
        });
        println!("payments: YooKassa on (webhook at /webhooks/yookassa)");
    } else {
        println!("payments: YooKassa off");
    }
    let web_shutdown = shutdown.clone();
    tasks.spawn(async move {
        axum::serve(
            web_listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(web_shutdown.cancelled_owned())
        .await
        .context("website stopped")
    });
    println!("website: http://{}", config.web.listen);
    // Privacy jobs: the retention rule daily, and encrypted backups when recipients are set.
    let (retention_app, retention_shutdown) = (app.clone(), shutdown.clone());
    tasks.spawn(async move {
        app::privacy::run_retention_job(retention_app, retention_shutdown).await;
        Ok(())
    });
    let (backup_app, backup_shutdown) = (app.clone(), shutdown.clone());
    tasks.spawn(async move {
        app::backup::run_scheduled_backups(backup_app, backup_shutdown).await;
        Ok(())
    });
    match bot_options {
        Some(options) => {
            tasks.spawn(run_bot(app.clone(), options, shutdown.clone()));
            if config.telegram.webhook_url.is_empty() {
                println!("bot: long polling {}", config.telegram.api_url);
            } else {
                println!("bot: webhook {}", config.telegram.webhook_url);
            }
        }
        None => println!("bot: off (no [telegram] token)"),
    }
    println!("ready");

    let outcome = tokio::select! {
        signal = shutdown_signal() => signal.map(|name| println!("{name}: shutting down")),
        Some(ended) = tasks.join_next() => Err(match ended {
            Ok(Ok(())) => anyhow::anyhow!("a service stopped unexpectedly"),
            Ok(Err(e)) => e,
            Err(e) => anyhow::anyhow!("a service crashed: {e}"),
        }),
    };
    shutdown.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some connections did not finish within the shutdown grace period");
    }
    app.store().close().await;
    outcome
}

async fn shutdown_signal() -> Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT").context("cannot handle SIGINT"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot handle Ctrl-C")?;
        Ok("Ctrl-C")
    }
}

/// The privacy page's table of what is stored, generated from the inventory in code.
fn inventory_rows(config: &config::Config) -> Vec<web::InventoryEntry> {
    domain::inventory::ENTRIES
        .iter()
        .map(|e| web::InventoryEntry {
            data: format!("{} ({}.{})", e.holds, e.table, e.column),
            category: format!("{} ({})", e.category.label(), e.category.clause()),
            purpose: e
                .purposes
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join("; "),
            retention: e.retention.describe(config.privacy.retention_days),
        })
        .collect()
}

/// `[subscription] rules` (validated at load) for the website's format choice.
fn format_rules(config: &config::Config) -> Vec<web::subscription::format::FormatRule> {
    config
        .subscription
        .rules
        .iter()
        .filter_map(|r| {
            let format = r.format.parse().ok()?;
            Some(web::subscription::format::FormatRule::new(
                &r.user_agent,
                format,
            ))
        })
        .collect()
}

/// The bot's settings when a token is set; its trial secret lives in the data directory.
fn bot_options(config: &config::Config) -> Result<Option<bot::BotOptions>> {
    if !config.telegram.token.is_set() {
        return Ok(None);
    }
    let dir = &config.service.data_dir;
    let secret = data_dir::read_or_create(dir, "trial.key", data_dir::random_secret)?;
    let trial_key = bot::TrialKey::new(secret.trim().as_bytes().to_vec())
        .context("the trial secret in the data directory is too short")?;
    let mut options = bot::BotOptions::new(trial_key);
    options.reminder_days = config.telegram.reminder_days.clone();
    Ok(Some(options))
}

/// The bot's @username for the website's button; the site works without it.
async fn bot_username(app: &app::App) -> Option<String> {
    match tokio::time::timeout(BOT_LOOKUP, bot::username(app)).await {
        Ok(Ok(name)) => name,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot learn the bot's username; the website shows no bot button");
            None
        }
        Err(_) => {
            tracing::warn!("Telegram did not answer in time; the website shows no bot button");
            None
        }
    }
}

/// The bot is restarted after a failure (Telegram unreachable, say) instead of taking the
/// node and the website down with it.
async fn run_bot(
    app: app::App,
    options: bot::BotOptions,
    shutdown: CancellationToken,
) -> Result<()> {
    loop {
        match bot::run(app.clone(), options.clone(), shutdown.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "Telegram bot failed; restarting in {}s", BOT_RESTART.as_secs())
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(BOT_RESTART) => {}
        }
    }
}

/// What a REALITY share link carries: the public key of `[node.reality] private_key`, the
/// first short id and the first server name.
fn reality_params(r: &config::NodeRealityConfig) -> Result<NodeSecurity> {
    let private = reality::decode_key(r.private_key.expose())
        .context("node.reality.private_key is not an X25519 key")?;
    Ok(NodeSecurity::Reality(RealityParams {
        public_key: reality::encode_key(&reality::public_key(&private)),
        short_id: r.short_ids.first().cloned().unwrap_or_default(),
        server_name: r.server_names.first().cloned().unwrap_or_default(),
    }))
}

/// A card payment is settled by the website (webhook or reconciler); the person hears of it in
/// the bot, as they would for Stars.
async fn announce_card_payments(
    app: app::App,
    options: bot::BotOptions,
    mut paid: tokio::sync::broadcast::Receiver<billing::CardPaid>,
    shutdown: CancellationToken,
) -> Result<()> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            event = paid.recv() => event,
        };
        match event {
            Ok(event) => {
                let sent =
                    bot::announce_payment(app.clone(), &options, event.user, shutdown.clone())
                        .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not tell a person in the bot that their card payment arrived");
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "card payment notices were dropped while the bot was slow"
                );
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// Records the embedded node in the store, so every front end prints links to it.
pub async fn register_embedded_node(app: &app::App) -> Result<()> {
    let c = &app.config().node;
    if !c.enabled {
        return Ok(());
    }
    let server_name = if c.tls.server_name.is_empty() {
        c.public_host.clone()
    } else {
        c.tls.server_name.clone()
    };
    let security = match c.security {
        config::NodeSecurityKind::Tls => NodeSecurity::Tls(TlsParams {
            server_name,
            allow_insecure: c.tls.cert.is_none(),
        }),
        config::NodeSecurityKind::Reality => reality_params(&c.reality)?,
    };
    app.store()
        .upsert_node(
            &c.name,
            &Location(c.location.clone()),
            &c.public_host,
            c.advertised_port(),
            &security,
        )
        .await
        .context("cannot register the embedded node")?;
    Ok(())
}
