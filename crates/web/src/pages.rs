//! The site's pages: one handler and one template struct per page.

pub mod account;
pub mod documents;
pub mod error;
pub mod home;
pub mod subscription;
pub mod support;
pub mod switch;
