//! `[web] tls = "acme"`: the certificate manager's settings from the configuration, the HTTPS
//! and plain-HTTP listeners, and the website's TLS intake presenting the certificate.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

/// What the website (and a TLS node under the domain) need from the running manager.
pub struct Https {
    pub resolver: Arc<acme::CertResolver>,
    pub challenges: acme::Challenges,
    /// `https_listen` and `http_listen`, until the website takes them.
    pub listeners: Option<(TcpListener, TcpListener)>,
}

impl Https {
    /// The website's HTTPS intake, presenting the current certificate at each handshake.
    pub fn intake(&self) -> Result<web::server::AddressSource> {
        let acceptor = web::server::tls_intake(self.resolver.clone())
            .context("cannot set up the website's TLS")?;
        Ok(web::server::AddressSource::Tls(acceptor))
    }
}

/// The manager when `[web] tls = "acme"`, its stored certificate (if any) installed.
pub fn manager(config: &config::Config) -> Result<Option<acme::Manager>> {
    if config.web.tls != config::WebTls::Acme {
        return Ok(None);
    }
    let w = &config.web;
    let names = w.acme_names(&config.node);
    let settings = acme::AcmeSettings {
        names: names.clone(),
        directory: w.acme_directory.clone(),
        contact_email: Some(w.acme_email.clone()).filter(|e| !e.is_empty()),
        ca_file: w.acme_ca_file.clone(),
        dir: config.service.data_dir.join("acme"),
    };
    let manager = acme::Manager::start(settings).context("cannot start the ACME certificates")?;
    if manager.has_stored_certificate() {
        println!(
            "acme: certificate for {} loaded from the data directory",
            names.join(", ")
        );
    } else {
        println!(
            "acme: ordering a certificate for {} from {}",
            names.join(", "),
            w.acme_directory
        );
    }
    Ok(Some(manager))
}

/// `[web] https_listen` and `http_listen`.
pub async fn bind(config: &config::Config) -> Result<(TcpListener, TcpListener)> {
    let https = TcpListener::bind(config.web.https_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on web.https_listen {}",
                config.web.https_listen
            )
        })?;
    let http = TcpListener::bind(config.web.http_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on web.http_listen {}",
                config.web.http_listen
            )
        })?;
    Ok((https, http))
}
