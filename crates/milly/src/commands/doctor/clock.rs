//! This machine's clock against the `Date` of servers the deployment talks to (REALITY's
//! `dest`, the Bot API, YooKassa, the public site): REALITY refuses clients whose clock differs
//! from ours by more than `[node.reality] max_time_diff_ms`, so a node with a wrong clock
//! refuses everyone. There is no NTP query here: only HTTP answers the deployment needs anyway.

use std::time::{Duration, SystemTime};

use super::{https, Finding};

const CHECK: &str = "clock";
/// The limit when REALITY sets none (`max_time_diff_ms = 0`) or the node is a TLS node:
/// certificates and payment providers tolerate about this much.
const DEFAULT_LIMIT: Duration = Duration::from_secs(60);
/// A `Date` has whole seconds, and the answer took time to come.
const RESOLUTION: Duration = Duration::from_secs(2);
/// How long one server may take to answer; one that does not is left out.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(4);

pub async fn check(c: &config::Config) -> Vec<Finding> {
    let reality = c.node.enabled && c.node.security == config::NodeSecurityKind::Reality;
    let limit = match c.node.reality.max_time_diff_ms {
        ms if reality && ms > 0 => Duration::from_millis(ms),
        _ => DEFAULT_LIMIT,
    };
    let client = match https::any_certificate() {
        Ok(client) => client,
        Err(e) => return vec![Finding::fail(CHECK, e)],
    };
    let sources = sources(c, reality);
    if sources.is_empty() {
        return vec![Finding::skipped(
            CHECK,
            "no server to compare with (no REALITY dest, bot, YooKassa or https public_url); \
             make sure NTP runs (timedatectl set-ntp true)",
        )];
    }
    let answers = dates_of(&client, &sources).await;
    let mut compared = Vec::new();
    for (url, answer) in answers {
        let Some((date, now)) = answer else { continue };
        let (skew, ahead) = match now.duration_since(date) {
            Ok(d) => (d, true),
            Err(e) => (e.duration(), false),
        };
        if skew > limit + RESOLUTION {
            let why = if reality {
                format!(
                    "REALITY refuses clients more than {} s off",
                    limit.as_secs()
                )
            } else {
                "certificates, the bot and YooKassa expect an accurate clock".to_owned()
            };
            return vec![Finding::fail(
                CHECK,
                format!(
                    "this machine's clock is {} s {} the Date of {url}; {why} — sync it \
                     (timedatectl set-ntp true, or chrony)",
                    skew.as_secs(),
                    if ahead { "ahead of" } else { "behind" },
                ),
            )];
        }
        compared.push(url);
    }
    if compared.is_empty() {
        return vec![Finding::warn(
            CHECK,
            "no server answered with a Date to compare with; make sure NTP runs \
             (timedatectl set-ntp true)",
        )];
    }
    vec![Finding::ok(
        CHECK,
        format!("within {} s of {}", limit.as_secs(), compared.join(", ")),
    )]
}

/// The HTTPS (or, for local emulators, HTTP) servers whose `Date` counts, with the host
/// name and address to reach each.
fn sources(c: &config::Config, reality: bool) -> Vec<Source> {
    let mut sources = Vec::new();
    if reality {
        let r = &c.node.reality;
        if let (Some(host), Ok(addr)) = (
            r.server_names.first().map(String::as_str).or(r.dest_host()),
            r.dest.parse::<std::net::SocketAddr>(),
        ) {
            // The site behind dest, asked by its name at dest's address.
            sources.push(Source {
                url: format!("https://{host}:{}/", addr.port()),
                resolve: Some((host.to_owned(), addr)),
            });
        } else if r.dest_host().is_some() {
            sources.push(Source::plain(format!("https://{}/", r.dest)));
        }
    }
    if c.telegram.token.is_set() {
        sources.push(Source::plain(c.telegram.api_url.clone()));
    }
    if c.yookassa.enabled {
        sources.push(Source::plain(c.yookassa.api_url.clone()));
    }
    if c.service.public_url.is_https() {
        sources.push(Source::plain(c.service.public_url.as_str().to_owned()));
    }
    sources
}

struct Source {
    url: String,
    /// Connect to this address for this host name (REALITY's dest by IP with its SNI).
    resolve: Option<(String, std::net::SocketAddr)>,
}

impl Source {
    fn plain(url: String) -> Source {
        Source { url, resolve: None }
    }
}

async fn dates_of(
    client: &reqwest::Client,
    sources: &[Source],
) -> Vec<(String, Option<(SystemTime, SystemTime)>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, source) in sources.iter().enumerate() {
        let client = match &source.resolve {
            Some((host, addr)) => https::any_certificate_resolving(host, *addr),
            None => Ok(client.clone()),
        };
        let url = source.url.clone();
        tasks.spawn(async move {
            let date = match client {
                Ok(client) => date_of(&client, &url).await,
                Err(_) => None,
            };
            (i, date)
        });
    }
    let mut answers: Vec<(usize, Option<(SystemTime, SystemTime)>)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(answer) = done {
            answers.push(answer);
        }
    }
    answers.sort_by_key(|(i, _)| *i);
    answers
        .into_iter()
        .map(|(i, date)| (sources[i].url.clone(), date))
        .collect()
}

/// The `Date` of a `GET` answer (any status; its body is never read), and our clock when
/// the answer came. Some servers never answer `HEAD`.
async fn date_of(client: &reqwest::Client, url: &str) -> Option<(SystemTime, SystemTime)> {
    let response = client.get(url).timeout(ANSWER_TIMEOUT).send().await.ok()?;
    let now = SystemTime::now();
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    Some((parse_http_date(date)?, now))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate, the one servers send).
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(text.trim(), format).ok()?;
    Some(at.assume_utc().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imf_fixdate_is_read_as_utc() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 784_111_777);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
