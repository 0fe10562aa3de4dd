//! `milly promo add|list|disable`: the operator's promo codes.

use anyhow::{anyhow, bail, Context as _, Result};
use app::{App, NewPromo};
use domain::{end_of_day_utc, Days, Percent, PlanId, Promo, PromoBenefit, PromoCode};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cli::{PromoAddArgs, PromoCommand};

pub async fn run(app: &App, cmd: PromoCommand) -> Result<()> {
    match cmd {
        PromoCommand::Add(args) => {
            let promo = app
                .add_promo(new_promo(args, OffsetDateTime::now_utc())?)
                .await?;
            println!("added promo code {}: {}", promo.code, describe(&promo));
        }
        PromoCommand::List => {
            let promos = app.promos().await?;
            println!(
                "{:<24}  {:<12}  {:<10}  {:>9}  {:<20}  STATE",
                "CODE", "GIVES", "PLAN", "USES", "UNTIL"
            );
            for p in promos {
                let uses = match p.max_uses {
                    Some(max) => format!("{}/{max}", p.uses),
                    None => p.uses.to_string(),
                };
                let until = p
                    .valid_until
                    .and_then(|u| u.format(&Rfc3339).ok())
                    .unwrap_or_else(|| "-".into());
                let state = if p.disabled {
                    "disabled"
                } else if p.usable(OffsetDateTime::now_utc()).is_ok() {
                    "on"
                } else {
                    "ended"
                };
                let line = format!(
                    "{:<24}  {:<12}  {:<10}  {:>9}  {:<20}  {}",
                    p.code,
                    gives(p.benefit),
                    p.plan.as_ref().map_or("any", |p| p.0.as_str()),
                    uses,
                    until,
                    state
                );
                println!("{line}");
            }
        }
        PromoCommand::Disable { code } => {
            let code: PromoCode = code.parse()?;
            if app.disable_promo(&code).await? {
                println!("promo code {code} disabled");
            } else {
                bail!("no promo code {code} is on (unknown, or disabled already)");
            }
        }
    }
    Ok(())
}

fn new_promo(args: PromoAddArgs, now: OffsetDateTime) -> Result<NewPromo> {
    let code: PromoCode = args.code.parse()?;
    let benefit = match (args.days, args.percent) {
        (Some(days), None) => {
            if days == 0 || Days(days) > Days::MAX {
                bail!("--days must be between 1 and {}", Days::MAX.0);
            }
            PromoBenefit::Days(Days(days))
        }
        (None, Some(percent)) => PromoBenefit::Percent(Percent::new(percent)?),
        _ => bail!("give exactly one of --days and --percent"),
    };
    if args.uses == Some(0) {
        bail!("--uses must be at least 1");
    }
    let valid_until = match args.until {
        Some(date) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(&date, &format)
                .with_context(|| format!("--until {date}: expected an ISO date, YYYY-MM-DD"))?;
            let end = end_of_day_utc(day);
            if end < now {
                return Err(anyhow!("--until {date} is in the past"));
            }
            Some(end)
        }
        None => None,
    };
    Ok(NewPromo {
        code,
        benefit,
        plan: args.plan.map(PlanId),
        max_uses: args.uses,
        valid_until,
        created_at: now,
    })
}

fn gives(benefit: PromoBenefit) -> String {
    match benefit {
        PromoBenefit::Days(d) => format!("{} days", d.0),
        PromoBenefit::Percent(p) => format!("{}% off", p.get()),
    }
}

fn describe(p: &Promo) -> String {
    let mut out = gives(p.benefit);
    if let Some(plan) = &p.plan {
        out.push_str(&format!(", plan {plan} only"));
    }
    if let Some(max) = p.max_uses {
        out.push_str(&format!(", {max} uses in total"));
    }
    if let Some(until) = p.valid_until.and_then(|u| u.format(&Rfc3339).ok()) {
        out.push_str(&format!(", until {until}"));
    }
    out.push_str(", once per person");
    out
}
