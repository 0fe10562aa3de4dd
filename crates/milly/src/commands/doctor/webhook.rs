//! Where YooKassa's notifications (`[service] public_url` + `/webhooks/yookassa`) and, in
//! webhook mode, Telegram's updates (`[telegram] webhook_url`) arrive: both deliver only over
//! HTTPS with a certificate a public client trusts, so the URL must be https and answer with
//! a certificate valid for its host.

use super::https::{self, Trust};
use super::Finding;

pub async fn check(c: &config::Config, trust: &Trust) -> Vec<Finding> {
    let mut targets = Vec::new();
    if c.yookassa.enabled {
        targets.push((
            "[service] public_url",
            c.service.public_url.as_str().to_owned(),
        ));
    }
    if !c.telegram.webhook_url.trim().is_empty() && c.telegram.token.is_set() {
        targets.push((
            "[telegram] webhook_url",
            c.telegram.webhook_url.trim().to_owned(),
        ));
    }
    if targets.is_empty() {
        return vec![Finding::skipped(
            "webhook",
            "nothing is delivered to this site (YooKassa off, the bot on long polling)",
        )];
    }
    let client = match trust.client() {
        Ok(client) => client,
        Err(e) => return vec![Finding::fail("webhook", e)],
    };
    let mut findings = Vec::new();
    for (key, url) in targets {
        findings.push(reachable(&client, key, &url).await);
    }
    findings
}

async fn reachable(client: &reqwest::Client, key: &str, url: &str) -> Finding {
    const CHECK: &str = "webhook";
    if !url.starts_with("https://") {
        return Finding::fail(
            CHECK,
            format!(
                "{key} {url} is not https: YooKassa and Telegram deliver only over HTTPS; put \
                 the site behind TLS (a reverse proxy with a Let's Encrypt certificate) and set \
                 {key} to its https:// address"
            ),
        );
    }
    match client.get(url).send().await {
        Ok(response) => Finding::ok(
            CHECK,
            format!(
                "{key} {url} answers over HTTPS (HTTP {}) with a trusted certificate",
                response.status().as_u16()
            ),
        ),
        Err(e) => Finding::fail(
            CHECK,
            format!(
                "{key} {url} is not reachable over HTTPS with a trusted certificate ({}); \
                 serve a certificate for its host from a public CA (or pass your CA with --ca)",
                https::describe(e)
            ),
        ),
    }
}
