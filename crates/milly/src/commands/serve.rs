//! `milly serve`: the website, the embedded node and the access feed, until SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::signal::shutdown_signal;
use crate::{admin_api, data_dir, embedded_node, fd_budget, feed, settings};

mod acme_site;
mod leader;
mod reload;
mod site;
mod telegram;

/// The website's PROXY protocol intake: loopback only, any free port.
const WEB_PROXIED_LISTEN: (std::net::Ipv4Addr, u16) = (std::net::Ipv4Addr::LOCALHOST, 0);

/// How long running work gets to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub async fn run(loaded: config::Loaded) -> Result<()> {
    // Before any listener is bound: a SIGHUP sent as soon as a port answers must reload, not
    // end the process (its default action) because the reloader's task had not run yet.
    let hangup = reload::hangup_signal()?;
    let config = Arc::new(loaded.config);
    match &loaded.source {
        config::ConfigSource::File(p) => println!("config: {}", p.display()),
        config::ConfigSource::EmbeddedDefault => println!(
            "config: none found, running on embedded defaults in {}",
            config.service.data_dir.display()
        ),
    }
    let app = super::open_app(&config).await?;
    println!("database: {}", app.database_backend());
    // The file wins for what its `[nodes.NAME]` sections name.
    super::node::from_config::apply(&app, &config).await?;
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();

    // The website's second door, for the node's fallback only: loopback, a port of its own,
    // a PROXY v2 header first, whose source (the stranger the node saw) is the client, so probes
    // through the node are told apart instead of all being 127.0.0.1.
    let web_proxied_listener = TcpListener::bind(WEB_PROXIED_LISTEN)
        .await
        .context("cannot open the website's PROXY protocol listener on loopback")?;
    let web_proxied_addr = web_proxied_listener
        .local_addr()
        .context("cannot read the website's PROXY protocol listener's address")?;

    // Descriptors are shared by the node, the website and the rest (docs/limits.md).
    let fds = fd_budget::split(fd_budget::raise_limit());
    println!("{}", fds.describe());

    // HTTPS by itself: the certificate manager starts first, so the node can share it.
    let mut acme = match acme_site::manager(&config)? {
        Some(manager) => {
            // Bound before the first order, so the CA's fetch waits in the accept queue at worst.
            let (https_listener, http_listener) = acme_site::bind(&config).await?;
            let https = acme_site::Https {
                resolver: manager.resolver(),
                challenges: manager.challenges(),
                listeners: Some((https_listener, http_listener)),
            };
            tasks.spawn({
                let shutdown = shutdown.clone();
                async move {
                    manager.run(shutdown).await;
                    Ok(())
                }
            });
            Some(https)
        }
        None => None,
    };

    let mut node_metrics = None;
    if config.node.enabled {
        let node_acme = acme
            .as_ref()
            .map(|a| node::CertificateResolver(a.resolver.clone()));
        let mut node_config = embedded_node::node_config(&config, &fds, node_acme)?;
        if config.node.fallback.is_none() {
            // Strangers go to the website's PROXY intake, which learns their real address.
            node_config.fallback = web_proxied_addr;
            node_config.fallback_proxy_protocol = true;
        }
        let listener = TcpListener::bind(config.node.listen)
            .await
            .with_context(|| format!("cannot listen on node.listen {}", config.node.listen))?;
        // Plain HTTP for a reverse proxy in front: its clients' addresses come from the same
        // trusted proxies as the website's.
        let plain = match config.node.http.listen {
            Some(listen) => Some(node::PlainHttp {
                listener: TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on node.http.listen {listen}"))?,
                identity: config.client_identity(),
            }),
            None => None,
        };
        let access = node::AccessTable::new();
        tasks.spawn(feed::run(app.clone(), access.clone(), shutdown.clone()));
        let node = node::Node::new(node_config, access).context("cannot start the node")?;
        node_metrics = Some(node.metrics());
        let node_shutdown = shutdown.clone();
        tasks.spawn(async move {
            node.run_with(listener, plain, node_shutdown)
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
        if let Some(listen) = config.node.http.listen {
            println!(
                "node: HTTP transports in plain HTTP on {listen}, for a reverse proxy in front"
            );
        }
    } else {
        println!("node: disabled");
    }

    if let Some(listen) = config.control.listen {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on control.listen {listen}"))?;
        let identity = control::ControlIdentity::load_or_create(&app)
            .await
            .context("cannot load the control plane's identity")?;
        let ctx = control::session::SessionContext {
            hub: control::FeedHub::start(app.clone(), shutdown.clone()),
            app: app.clone(),
            identity,
        };
        let control_shutdown = shutdown.clone();
        tasks.spawn(async move {
            control::serve(listener, ctx, control_shutdown)
                .await
                .context("the remote nodes' listener stopped")
        });
        println!("control: remote nodes dial {listen} (mutual TLS)");
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
    let bot_options = telegram::bot_options(&config)?;
    let bot_username = match &bot_options {
        Some(options) => telegram::bot_username(&options.settings).await,
        None => None,
    };
    // Card payments: the use cases from `app`, served by the website under its own headers,
    // error pages and rate limits; the credited and refunded events go to the bot.
    let cards = if config.yookassa.enabled {
        let policy = billing::SourcePolicy::with_identity(
            config.yookassa.check_source_ip,
            config.client_identity(),
        );
        let yookassa = billing::YooKassa::new(&app.settings().yookassa)
            .context("cannot start card payments")?
            .with_source(policy);
        Some(app::CardPayments::with_provider(
            app.clone(),
            std::sync::Arc::new(yookassa),
        ))
    } else {
        None
    };
    let admin = admin_api::router(admin_api::AdminState {
        token: Arc::new(admin_token),
        app: app.clone(),
        node_metrics,
        bot_metrics: bot_options.as_ref().map(|o| o.metrics.clone()),
    });
    let hook = match bot_options
        .as_ref()
        .filter(|_| !config.telegram.webhook_url.is_empty())
    {
        Some(options) => Some(
            bot::webhook_router(app.clone(), options, shutdown.clone())
                .context("cannot set up the Telegram webhook")?,
        ),
        None => None,
    };
    let web_parts = site::WebParts {
        app: app.clone(),
        bot_username,
        // The admin panel adds remote nodes only where they can dial in.
        node_registrar: crate::panel_nodes::PanelNodes::for_config(app.clone(), &config),
        cards: cards.clone(),
        admin,
        hook,
    };
    let website = reload::Website::new(site::router(&config, &web_parts));
    let router = website.router();
    let mut reconciler = None;
    if let Some(cards) = cards {
        if let Some(options) = bot_options.clone() {
            let paid = cards.subscribe();
            tasks.spawn(telegram::announce_card_payments(
                app.clone(),
                options.clone(),
                paid,
                shutdown.clone(),
            ));
            let gifts = cards.subscribe_gifts();
            tasks.spawn(telegram::announce_card_gifts(
                app.clone(),
                options.clone(),
                gifts,
                shutdown.clone(),
            ));
            let refunds = cards.subscribe_erased_refunds();
            tasks.spawn(telegram::announce_erased_refunds(
                app.clone(),
                options.clone(),
                refunds,
                shutdown.clone(),
            ));
            let renewals = cards.subscribe_renewal_notices();
            tasks.spawn(telegram::announce_renewal_notices(
                app.clone(),
                options,
                renewals,
                shutdown.clone(),
            ));
        }
        let every = Duration::from_secs(config.yookassa.reconcile_interval_secs);
        reconciler = Some((cards, every));
        println!(
            "payments: YooKassa on (webhook at {})",
            web::YOOKASSA_WEBHOOK_PATH
        );
    } else {
        println!("payments: YooKassa off");
    }
    let web_shutdown = shutdown.clone();
    let mut limits = settings::server_limits(&config);
    // The website's share of descriptors caps it too; an operator's lower value wins.
    limits.max_connections = limits.max_connections.min(fds.web_connections);
    let mut intakes = vec![
        (web_listener, web::server::AddressSource::Direct),
        (web_proxied_listener, web::server::AddressSource::ProxyV2),
    ];
    if let Some(https) = &mut acme {
        let (https_listener, http_listener) = https
            .listeners
            .take()
            .context("the HTTPS listeners were bound once")?;
        intakes.push((https_listener, https.intake()?));
        // Port 80 has a cap of its own: the CA's fetches and redirects must not wait behind
        // the site's connections.
        let origin = config
            .web
            .https_origin()
            .context("web.tls = \"acme\" needs web.domain")?;
        let redirector = web::acme_http::router(https.challenges.clone(), &origin);
        let http_shutdown = shutdown.clone();
        let mut http_limits = settings::server_limits(&config);
        http_limits.max_connections = http_limits
            .max_connections
            .min(web::acme_http::MAX_CONNECTIONS);
        tasks.spawn(async move {
            web::server::serve(http_listener, redirector, http_limits, http_shutdown).await;
            Ok(())
        });
        println!(
            "website: https://{} on {} (plain HTTP on {}: ACME challenges and a redirect)",
            config.web.domain, config.web.https_listen, config.web.http_listen
        );
    }
    tasks.spawn(async move {
        web::server::serve_intakes(intakes, router, limits, web_shutdown).await;
        Ok(())
    });
    println!(
        "website: http://{} (for the node's fallback, with the PROXY protocol: {web_proxied_addr})",
        config.web.listen
    );
    // What must run once however many processes serve: the bot and its reminders, the
    // reconciler, the retention rule daily and encrypted backups (when recipients are set).
    let singletons = leader::Singletons {
        app: app.clone(),
        bot: bot_options.clone(),
        reconciler,
    };
    tasks.spawn(leader::run(singletons, shutdown.clone()));
    match bot_options {
        Some(_) => {
            if config.telegram.webhook_url.is_empty() {
                println!("bot: long polling {}", config.telegram.api_url);
            } else {
                println!("bot: webhook {}", config.telegram.webhook_url);
            }
        }
        None => println!("bot: off (no [telegram] token)"),
    }
    tasks.spawn(
        reload::Reloader {
            file: match &loaded.source {
                config::ConfigSource::File(path) => Some(path.clone()),
                config::ConfigSource::EmbeddedDefault => None,
            },
            running: (*config).clone(),
            app: app.clone(),
            website,
            parts: web_parts,
        }
        .run(hangup, shutdown.clone()),
    );
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
    app.close().await;
    outcome
}
