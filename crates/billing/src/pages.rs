//! The few pages the payment routes show themselves: plain HTML, no scripts, styles, images or
//! third-party anything, in Russian and English, under a CSP that allows nothing else (the
//! checkout page may also post its one form to us, which then redirects to YooKassa).

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Nothing may load; nothing may frame us; forms go nowhere.
pub const CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The checkout page's CSP: as [`CSP`], but its form may post to us, and the redirect that
/// answers it may go to YooKassa's payment page (browsers check `form-action` on redirects).
pub const CHECKOUT_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'self' https:; frame-ancestors 'none'";

/// Headers every payment response carries: no caching (statuses change), no referrer (the
/// checkout URL holds the person's token), the CSP.
pub fn harden(response: Response) -> Response {
    harden_with(response, CSP)
}

fn harden_with(mut response: Response, csp: &'static str) -> Response {
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// A page with a Russian and an English paragraph. Only fixed texts go in: nothing from the
/// request or the database is shown, so nothing needs escaping.
pub fn page(status: StatusCode, title: &str, ru: &str, en: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=ru><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title></head><body><main>\
         <h1>{title}</h1><p lang=ru>{ru}</p><p lang=en>{en}</p>\
         </main></body></html>"
    );
    harden((status, Html(body)).into_response())
}

/// The checkout page a link opens: the plan, its price and one button that posts the link's
/// own parameters back. Link previewers and prefetchers only GET, so they create nothing.
pub fn checkout_offer(token: &str, plan: &domain::Plan, price: domain::Money) -> Response {
    let plan_id = escape(&plan.id.0);
    let days = plan.days.0;
    let price = format!("{} ₽", crate::amount::to_value(price));
    let body = format!(
        "<!doctype html><html lang=ru><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>Оплата картой · Pay by card</title></head><body><main>\
         <h1>Оплата картой · Pay by card</h1>\
         <p>{plan_id}: {days} дн. · {days} days</p><p><strong>{price}</strong></p>\
         <form method=post action=\"{action}\">\
         <input type=hidden name=t value=\"{token}\">\
         <input type=hidden name=plan value=\"{plan_id}\">\
         <button type=submit>Оплатить картой · Pay with card</button></form>\
         <p lang=ru>Оплата на странице ЮKassa. Данные карты мы не получаем.</p>\
         <p lang=en>You pay on YooKassa's page. We never see your card details.</p>\
         </main></body></html>",
        action = app::CARD_CHECKOUT_PATH,
        token = escape(token),
    );
    harden_with((StatusCode::OK, Html(body)).into_response(), CHECKOUT_CSP)
}

/// HTML-escapes text for an element or a double-quoted attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What an old `?payment=NUMBER` return link shows: nothing about any payment, whichever
/// number it names.
pub fn return_neutral() -> Response {
    page(
        StatusCode::OK,
        "Статус оплаты · Payment status",
        "Статус оплаты показан в Telegram-боте.",
        "Your payment's status is shown in the Telegram bot.",
    )
}

/// The return page's text for each state the payment can be in.
pub fn payment_status(status: Option<domain::PaymentStatus>) -> Response {
    use domain::PaymentStatus::*;
    match status {
        Some(Succeeded) => page(
            StatusCode::OK,
            "Оплачено · Paid",
            "Оплата получена, подписка продлена. Вернитесь в Telegram-бот.",
            "Payment received and your subscription extended. Return to the Telegram bot.",
        ),
        Some(Pending) => page(
            StatusCode::OK,
            "Ожидаем оплату · Waiting for payment",
            "Платёж ещё не завершён. Обновите страницу через минуту.",
            "The payment is not complete yet. Reload this page in a minute.",
        ),
        Some(Canceled) => page(
            StatusCode::OK,
            "Платёж отменён · Payment canceled",
            "Деньги не списаны. Можно попробовать снова из бота.",
            "No money was taken. You can try again from the bot.",
        ),
        Some(Refunded) => page(
            StatusCode::OK,
            "Возврат · Refunded",
            "Платёж возвращён.",
            "This payment was refunded.",
        ),
        None => not_found(),
    }
}

pub fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Не найдено · Not found",
        "Такого платежа нет.",
        "There is no such payment.",
    )
}

pub fn too_many() -> Response {
    page(
        StatusCode::TOO_MANY_REQUESTS,
        "Слишком часто · Too many requests",
        "Подождите минуту и попробуйте снова.",
        "Wait a minute and try again.",
    )
}

pub fn unavailable() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Оплата недоступна · Payments unavailable",
        "Платёжная система не отвечает. Попробуйте позже.",
        "The payment provider is not answering. Please try again later.",
    )
}

pub fn refused() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Ссылка недействительна · Link not valid",
        "Откройте оплату заново из Telegram-бота.",
        "Open the payment again from the Telegram bot.",
    )
}

pub fn not_offered() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Тариф недоступен · Plan not available",
        "Этот тариф нельзя оплатить картой.",
        "This plan cannot be paid by card.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_carries_the_csp_and_no_referrer() {
        let r = payment_status(Some(domain::PaymentStatus::Succeeded));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(r.headers()[REFERRER_POLICY], "no-referrer");
        assert_eq!(not_found().status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_checkout_page_posts_its_escaped_parameters_and_nothing_else_runs() {
        let plan = domain::Plan {
            id: domain::PlanId("vip\"<x>".into()),
            days: domain::Days(30),
            price_rub: Some(domain::Money::rub_kopecks(19_900)),
            price_stars: None,
        };
        let r = checkout_offer("tok", &plan, domain::Money::rub_kopecks(19_900));
        assert_eq!(r.headers()[CONTENT_SECURITY_POLICY], CHECKOUT_CSP);
        assert!(CHECKOUT_CSP.contains("default-src 'none'"));
        assert_eq!(r.headers()[REFERRER_POLICY], "no-referrer");
        assert_eq!(escape("a\"<b>&'"), "a&quot;&lt;b&gt;&amp;&#39;");
    }
}
