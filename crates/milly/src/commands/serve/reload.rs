//! SIGHUP: read the configuration file again and put its plans, prices and texts in place
//! without dropping a connection (`config::reload` says which keys; the rest waits for a
//! restart and is named in the log). A file that does not load or validate changes nothing.

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use super::site::{self, WebParts};

/// The website's router, swapped whole on reload; connections and requests in flight keep the
/// router they started with.
#[derive(Clone)]
pub struct Website {
    current: Arc<ArcSwap<Router>>,
}

impl Website {
    pub fn new(router: Router) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(router)),
        }
    }

    /// A router that serves each request with the website as it is at that moment.
    pub fn router(&self) -> Router {
        let current = self.current.clone();
        Router::new().fallback_service(tower::service_fn(move |request: Request<Body>| {
            let router = Router::clone(&current.load());
            async move { router.oneshot(request).await }
        }))
    }

    fn replace(&self, router: Router) {
        self.current.store(Arc::new(router));
    }
}

/// What a reload changes.
pub struct Reloader {
    /// The file `serve` started from; `None` on embedded defaults (nothing to read again).
    pub file: Option<std::path::PathBuf>,
    pub running: config::Config,
    pub app: app::App,
    pub website: Website,
    pub parts: WebParts,
}

/// Takes SIGHUP over from its default action (ending the process), from this call on.
pub fn hangup_signal() -> anyhow::Result<Signal> {
    signal(SignalKind::hangup()).map_err(|e| anyhow::anyhow!("cannot handle SIGHUP: {e}"))
}

impl Reloader {
    /// Reloads on every SIGHUP (`hangup`, from [`hangup_signal`]) until shutdown.
    pub async fn run(
        mut self,
        mut hangup: Signal,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                received = hangup.recv() => {
                    if received.is_none() {
                        return Ok(());
                    }
                    self.reload();
                }
            }
        }
    }

    fn reload(&mut self) {
        let Some(path) = &self.file else {
            tracing::warn!("SIGHUP: running on embedded defaults, there is no file to reload");
            return;
        };
        let outcome =
            config::load(path, true).and_then(|file| config::reload(&self.running, &file.config));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => {
                tracing::error!(error = %err, "SIGHUP: the configuration was not reloaded; the running one stays");
                return;
            }
        };
        let next = outcome.config;
        crate::logging::set_format(next.log.format);
        self.app.reload_settings(crate::settings::app(&next));
        self.website.replace(site::router(&next, &self.parts));
        self.running = next;
        if outcome.needs_restart.is_empty() {
            tracing::info!("SIGHUP: plans, prices and texts reloaded");
        } else {
            tracing::warn!(
                sections = %outcome.needs_restart.join(", "),
                "SIGHUP: plans, prices and texts reloaded; other changes in these sections take effect after a restart"
            );
        }
    }
}
