//! Admin commands for the Telegram ids in `[telegram] admins`: aggregate stats (never anything
//! about traffic), the nodes' health (all users together), grant days, block and unblock (each
//! recorded in the admin audit list, as in the web panel), find a user, and broadcasts (queued
//! as jobs that `broadcasts` sends).

use app::AdminStats;
use domain::{BroadcastAudience, Days, UserRef};
use time::OffsetDateTime;

use crate::ctx::Ctx;
use crate::texts::{self, escape};
use crate::{node_health, BotError};

const BROADCAST_USAGE: &str = "Usage: /broadcast all|active|expired|trial_only|never_paid TEXT";

const HELP: &str = "<b>Admin commands</b>\n\
    /stats — users, active subscriptions, revenue\n\
    /nodes — each node: online, revision lag, connections, bytes\n\
    /find ID — a user by internal or Telegram id\n\
    /grant ID DAYS — add days\n\
    /block ID, /unblock ID\n\
    /broadcast all|active|expired|trial_only|never_paid TEXT — message a group (also in the web panel)\n\
    /admin — this help and a sign-in link to the web panel";

const COMMANDS: [&str; 8] = [
    "/admin",
    "/stats",
    "/nodes",
    "/find",
    "/grant",
    "/block",
    "/unblock",
    "/broadcast",
];

pub fn is_command(text: &str) -> bool {
    let word = text.split_whitespace().next().unwrap_or_default();
    COMMANDS.contains(&word)
}

pub async fn command(
    ctx: &Ctx,
    from: domain::TelegramId,
    chat: i64,
    text: &str,
) -> Result<(), BotError> {
    let mut words = text.split_whitespace();
    let command = words.next().unwrap_or_default();
    let first = words.next();
    let second = words.next();
    let now = ctx.now();
    if command == "/admin" {
        return crate::admin_login::give(ctx, from, chat, HELP).await;
    }
    let reply = match command {
        "/stats" => stats(ctx, now).await?,
        "/nodes" => node_health::overview(ctx).await?,
        "/find" => match first.and_then(|id| id.parse::<UserRef>().ok()) {
            Some(id) => find(ctx, id, now).await?,
            None => "Usage: /find ID".into(),
        },
        "/grant" => match (
            first.and_then(|id| id.parse::<UserRef>().ok()),
            second.and_then(|d| d.parse::<u32>().ok()),
        ) {
            (Some(id), Some(days)) => match grant(ctx, from, id, Days(days), now).await {
                Ok(view) => format!(
                    "User {}: active until {}.",
                    view.user.id.0,
                    view.subscription
                        .map(|s| texts::date(domain::Language::En, s.ends_at))
                        .unwrap_or_default()
                ),
                Err(app::AppError::UserNotFound) => "No such user.".into(),
                Err(app::AppError::Subscription(_)) => "That many days cannot be granted.".into(),
                Err(other) => return Err(other.into()),
            },
            _ => "Usage: /grant ID DAYS".into(),
        },
        "/block" | "/unblock" => match first.and_then(|id| id.parse::<UserRef>().ok()) {
            Some(id) => {
                let blocked = command == "/block";
                let done = match ctx.app.resolve(id).await {
                    Ok(user) => ctx.app.admin_set_blocked(from, user.id, blocked, now).await,
                    Err(err) => Err(err),
                };
                match done {
                    Ok(view) if blocked => format!("User {} is blocked.", view.user.id.0),
                    Ok(view) => format!("User {} is unblocked.", view.user.id.0),
                    Err(app::AppError::UserNotFound) => "No such user.".into(),
                    Err(other) => return Err(other.into()),
                }
            }
            None => format!("Usage: {command} ID"),
        },
        "/broadcast" => {
            let audience = first.and_then(BroadcastAudience::from_code);
            let body = text
                .splitn(3, char::is_whitespace)
                .nth(2)
                .map(str::trim)
                .unwrap_or_default();
            match audience {
                Some(audience) if audience != BroadcastAudience::Preview && !body.is_empty() => {
                    match ctx.app.start_broadcast(from, audience, body, now).await {
                        Ok(job) => format!(
                            "Broadcast #{} to {} people started; I will report when it is done.",
                            job.id, job.recipients
                        ),
                        Err(app::AppError::BadBroadcast) => {
                            "A broadcast is at most 4096 characters.".into()
                        }
                        Err(other) => return Err(other.into()),
                    }
                }
                _ => BROADCAST_USAGE.into(),
            }
        }
        _ => HELP.into(),
    };
    let sent = ctx.send(chat, &reply, None).await;
    ctx.delivered(None, sent).await?;
    Ok(())
}

/// `/grant`: the days go through the audited use case, like the web panel's "Extend".
async fn grant(
    ctx: &Ctx,
    admin: domain::TelegramId,
    id: UserRef,
    days: Days,
    now: OffsetDateTime,
) -> Result<app::UserView, app::AppError> {
    let user = ctx.app.resolve(id).await?;
    ctx.app.admin_extend(admin, user.id, days, now).await
}

async fn stats(ctx: &Ctx, now: OffsetDateTime) -> Result<String, BotError> {
    let AdminStats { counts, revenue } = ctx.app.admin_stats(now).await?;
    let mut out = format!(
        "<b>Stats</b>\nUsers: {}\nActive subscriptions: {}\nBlocked: {}\n",
        counts.users, counts.active_subscriptions, counts.blocked
    );
    for period in revenue {
        let sums: Vec<String> = period
            .sums
            .iter()
            .map(|(money, count)| {
                let major = money.minor / money.currency.minor_per_major();
                format!("{major} {} ({count} payments)", money.currency.code())
            })
            .collect();
        let sums = if sums.is_empty() {
            "—".to_owned()
        } else {
            sums.join(", ")
        };
        out.push_str(&format!("Revenue, last {}: {sums}\n", period.label));
    }
    let promos = ctx.app.promos().await?;
    if !promos.is_empty() {
        out.push_str("Promo codes (uses):\n");
        for p in promos {
            let uses = match p.max_uses {
                Some(max) => format!("{}/{max}", p.uses),
                None => p.uses.to_string(),
            };
            let off = if p.usable(now).is_ok() { "" } else { " (off)" };
            out.push_str(&format!("  {}: {uses}{off}\n", escape(p.code.as_str())));
        }
    }
    Ok(out)
}

/// What an operator needs to help a person: ids, state and dates; no names.
async fn find(ctx: &Ctx, id: UserRef, now: OffsetDateTime) -> Result<String, BotError> {
    let Some(user) = ctx.find(id).await? else {
        return Ok("No such user.".into());
    };
    let sub = ctx.app.subscription(user.id).await?;
    let status = texts::status(domain::Language::En, sub.map(|s| s.ends_at), now);
    Ok(format!(
        "User {} (Telegram {})\n{}\nBlocked: {}\nEmail set: {}\nLanguage: {}\nJoined: {}",
        user.id.0,
        user.telegram_id.0,
        escape(&status),
        if user.blocked { "yes" } else { "no" },
        if user.email.is_some() { "yes" } else { "no" },
        user.language.code(),
        texts::date(domain::Language::En, user.created_at),
    ))
}
