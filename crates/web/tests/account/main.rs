//! The person's own data controls, against a real store, reached only with the short-lived
//! account link the bot gives (`/account/{token}`): they download the same document the bot and
//! `milly user export` give, set, change and remove their email, and delete their account after
//! ticking a box. The subscription token alone opens none of it; an unknown, replaced or expired
//! link gets one "ask the bot for a new one" page; only same-site `POST`s act.
// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

#[path = "../answer/mod.rs"]
mod answer;
mod deletion;
mod email;
mod links;
mod pages;
mod who_may_act;
mod world;
