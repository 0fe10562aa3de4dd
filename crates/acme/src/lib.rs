//! Certificates from an ACME CA (RFC 8555, HTTP-01): ordered when missing, kept in the data
//! directory (0600), renewed before expiry and swapped into rustls without a restart.
//!
//! [`Manager::start`] hands back a [`CertResolver`] (give it to every rustls server that should
//! present the certificate: the website's HTTPS intake, a TLS node) and the [`Challenges`] the
//! plain-HTTP listener answers at `/.well-known/acme-challenge/{token}`; [`Manager::run`] keeps
//! the certificate current until shutdown.

#![forbid(unsafe_code)]

mod certificate;
mod challenges;
mod files;
mod manager;
mod order;
mod resolver;

pub use certificate::{Certificate, CertificateError};
pub use challenges::{Challenges, CHALLENGE_PATH_PREFIX};
pub use files::FilesError;
pub use manager::{AcmeSettings, Manager, StartError, LETS_ENCRYPT_DIRECTORY};
pub use resolver::CertResolver;
