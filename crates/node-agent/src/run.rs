//! The feed's long life: dial out, converse, and after a failure dial again with a capped, jittered backoff; start from the cache meanwhile.

use std::sync::Arc;
use std::time::Duration;

use node::CancellationToken;
use rand::Rng;

use crate::credential::{Credential, CredentialError};
use crate::link::Link;
use crate::session::{converse, Ended};
use crate::state::{Feed, State};
use crate::{AgentConfig, Timing};

/// Why the agent cannot run at all (a lost or refused connection is retried, never this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("cannot set up TLS with the node's credential: {0}")]
    Tls(#[from] rustls::Error),
}

/// Pauses between connection attempts: doubling from `min` to `max`, each drawn between half
/// and all of the current step so that nodes cut off together do not return together.
struct Backoff {
    min: Duration,
    max: Duration,
    step: Duration,
}

impl Backoff {
    fn new(timing: &Timing) -> Self {
        Backoff {
            min: timing.backoff_min,
            max: timing.backoff_max.max(timing.backoff_min),
            step: timing.backoff_min,
        }
    }

    fn reset(&mut self) {
        self.step = self.min;
    }

    fn next(&mut self) -> Duration {
        let step = self.step;
        self.step = (step * 2).min(self.max);
        let low = step / 2;
        low + (step - low).mul_f64(rand::rng().random::<f64>())
    }
}

/// Keeps the node's table and settings fed from the control plane until `shutdown`: first
/// from the cache in `config.cache_dir`, then over the network, reconnecting forever.
pub async fn run(
    config: &AgentConfig,
    feed: Feed,
    timing: Timing,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let credential = Credential::load(&config.certificate, &config.key)?;
    let (certificate, key) = credential.tls_parts()?;
    let tls = Arc::new(feed_wire::tls::client_config(
        config.control_pin,
        certificate,
        key,
    )?);
    let mut state = State::new(feed, config.cache_dir.clone());
    state.load_cache();
    let mut backoff = Backoff::new(&timing);
    loop {
        let dialled = tokio::select! {
            _ = shutdown.cancelled() => break,
            dialled = Link::dial(&config.control_address, tls.clone(), timing.connect_timeout) => dialled,
        };
        match dialled {
            Ok(mut link) => {
                let mut synced = false;
                let ended = converse(&mut link, &mut state, &timing, &shutdown, &mut synced).await;
                link.close().await;
                if synced {
                    backoff.reset();
                }
                match ended {
                    Ended::Shutdown => break,
                    Ended::Refused(reason) => {
                        tracing::error!(%reason, "control link: the control plane refused this node")
                    }
                    Ended::Lost(e) => tracing::warn!(error = %e, "control link lost"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "control link: cannot connect"),
        }
        state.save_table().await;
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(backoff.next()) => {}
        }
    }
    state.save_table().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap_with_jitter_within_each_step() {
        let timing = Timing {
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(8),
            ..Timing::default()
        };
        let mut b = Backoff::new(&timing);
        for step in [1, 2, 4, 8, 8, 8] {
            let pause = b.next();
            let step = Duration::from_secs(step);
            assert!(pause >= step / 2 && pause <= step, "{pause:?} in {step:?}");
        }
        b.reset();
        assert!(b.next() <= Duration::from_secs(1));
    }
}
