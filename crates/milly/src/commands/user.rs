//! `milly user ...`: the operator's user management, printed for people (export: JSON).

use anyhow::Result;
use app::{App, UserView};
use domain::{AccessDenied, Days, TelegramId};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cli::UserCommand;

pub async fn run(app: &App, cmd: UserCommand) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    match cmd {
        UserCommand::Add { telegram_id, days } => {
            let view = match app
                .add_user(TelegramId(telegram_id), days.map(Days), now)
                .await
            {
                // The operator typed the id: saying it back to their terminal keeps the message
                // as clear as before, while the error itself carries no one's id.
                Err(app::AppError::AlreadyExists) => {
                    anyhow::bail!("a user with Telegram id {telegram_id} already exists")
                }
                other => other?,
            };
            print_view(&view, true);
        }
        UserCommand::List { offset, limit } => {
            let rows = app.list_users(offset, limit).await?;
            println!(
                "{:>8}  {:>14}  {:<8}  {:<20}",
                "ID", "TELEGRAM", "STATUS", "ENDS"
            );
            for row in rows {
                let status = status(&domain::has_access(
                    &row.user,
                    row.subscription.as_ref(),
                    now,
                ));
                let ends = row
                    .subscription
                    .as_ref()
                    .map(|s| date(s.ends_at))
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:>8}  {:>14}  {:<8}  {:<20}",
                    row.user.id, row.user.telegram_id, status, ends
                );
            }
        }
        UserCommand::Show { id } => print_view(&app.show(id, now).await?, true),
        UserCommand::Extend { id, days } => {
            print_view(&app.extend(id, Days(days), now).await?, false)
        }
        UserCommand::Block { id } => print_view(&app.set_blocked(id, true, now).await?, false),
        UserCommand::Unblock { id } => print_view(&app.set_blocked(id, false, now).await?, false),
        UserCommand::Delete { id } => {
            app.delete(id).await?;
            println!("user erased: access revoked, personal data deleted");
        }
        UserCommand::Export { id } => {
            println!("{}", serde_json::to_string_pretty(&app.export(id).await?)?);
        }
    }
    Ok(())
}

fn status(access: &Result<(), AccessDenied>) -> &'static str {
    match access {
        Ok(()) => "active",
        Err(AccessDenied::Blocked) => "blocked",
        Err(AccessDenied::Expired) => "expired",
        Err(AccessDenied::NoSubscription) => "none",
    }
}

fn date(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn print_view(view: &UserView, with_links: bool) {
    let u = &view.user;
    println!("user {} (telegram {})", u.id, u.telegram_id);
    println!("status: {}", status(&view.access));
    match &view.subscription {
        Some(s) => {
            println!("activated: {}", date(s.activated_at));
            println!("ends: {}", date(s.ends_at));
        }
        None => println!("ends: -"),
    }
    if with_links {
        println!("subscription: {}", view.links.subscription_url);
        for link in &view.links.vless {
            println!("{link}");
        }
    }
}
