//! The admin web panel over the website's router, on SQLite and PostgreSQL: signing in with
//! the one-time link the bot gives (stale, used and non-admin links refused, no cookie), the
//! session cookie's flags, sign-out, every page, each action and its audit entry, and forms
//! posted without their CSRF token changing nothing.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
#[path = "../answer/mod.rs"]
mod answer;
mod broadcasts;
#[path = "../card_shop/mod.rs"]
mod card_shop;
mod csrf;
mod panel;
mod sign_in;
