//! The website as a visitor, a browser and a scanner see it, driven through the public router.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

#[path = "../answer/mod.rs"]
mod answer;
mod hardening;
mod language;
mod legal;
mod pages;
mod router;
