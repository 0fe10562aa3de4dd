//! `milly payment ...`: the operator's list of payments and full refunds (YooKassa through its
//! refunds API, Telegram Stars through the Bot API's `refundStarPayment`).

use anyhow::Result;
use app::App;
use domain::PaymentId;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cli::PaymentCommand;

pub async fn run(app: &App, cmd: PaymentCommand) -> Result<()> {
    match cmd {
        PaymentCommand::List { user } => {
            let user = match user {
                Some(who) => Some(app.resolve(who).await?.id),
                None => None,
            };
            let payments = app.payments(user).await?;
            println!(
                "{:>8}  {:>8}  {:<14}  {:<10}  {:>5}  {:>12}  {:<9}  {:<20}",
                "ID", "USER", "PROVIDER", "PLAN", "DAYS", "AMOUNT", "STATUS", "CREATED"
            );
            for p in payments {
                let who = p
                    .user_id
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "erased".into());
                println!(
                    "{:>8}  {:>8}  {:<14}  {:<10}  {:>5}  {:>12}  {:<9}  {:<20}",
                    p.id,
                    who,
                    p.provider.code(),
                    p.plan,
                    p.days.0,
                    p.amount.to_string(),
                    p.status.code(),
                    p.created_at.format(&Rfc3339).unwrap_or_default()
                );
            }
        }
        PaymentCommand::Refund { id } => {
            let id = PaymentId(id);
            let payment = app
                .payment(id)
                .await?
                .ok_or(app::PaymentError::PaymentNotFound)?;
            let outcome = app.refund_payment(id, OffsetDateTime::now_utc()).await?;
            match (outcome.provider, outcome.refund_id) {
                (domain::Provider::TelegramStars, _) => println!(
                    "refunded {} to the payer through Telegram (refundStarPayment)",
                    payment.amount
                ),
                (provider, refund_id) => println!(
                    "refunded {} through {} (refund {}, {})",
                    payment.amount,
                    provider.name(),
                    refund_id.as_deref().unwrap_or("without an id"),
                    outcome.state.code()
                ),
            }
            println!(
                "payment {id} is marked refunded; the {} days it bought were left in place \
                 (block the user if access should end)",
                payment.days.0
            );
        }
    }
    Ok(())
}
