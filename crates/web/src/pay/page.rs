//! The payment pages: the site's frame around a title and a paragraph in Russian and English,
//! and on the checkout page the plan with its one button. Never cached (statuses change, and the
//! checkout address holds the person's token).

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::security::CHECKOUT_CONTENT_SECURITY_POLICY_VALUE;
use crate::site::Site;
use crate::text::pay::{AutoRenewChoice, PaySays, AUTO_RENEW_CHOICE, CHECKOUT, PAY_BUTTON};

/// The plan a checkout link offers, as its page shows it.
pub struct Offer {
    pub plan: String,
    pub days: u32,
    pub price: String,
    /// The link's own token, posted back by the button.
    pub token: String,
    pub action: &'static str,
    pub button: &'static str,
    /// The opt-in checkbox for auto-renewal (never ticked by default).
    pub auto_renew: &'static AutoRenewChoice,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    page: Chrome,
    says: &'static PaySays,
    offer: Option<Offer>,
}

/// A page that says `says`, with `status`.
pub fn show(
    site: &Site,
    lang: RequestLang,
    status: StatusCode,
    says: &'static PaySays,
) -> Response {
    render(site, lang, status, says, None)
}

/// The checkout page: what the link offers and a button that posts the link's parameters back.
/// Its form may post to us, and the redirect that answers it may go to YooKassa's payment page
/// (browsers check `form-action` on redirects too).
pub fn offer(
    site: &Site,
    lang: RequestLang,
    plan: &domain::Plan,
    price: domain::Money,
    token: &str,
) -> Response {
    let offer = Offer {
        plan: plan.id.0.clone(),
        days: plan.days.0,
        price: format!("{} ₽", billing::amount::to_value(price)),
        token: token.to_owned(),
        action: app::CARD_CHECKOUT_PATH,
        button: PAY_BUTTON,
        auto_renew: &AUTO_RENEW_CHOICE,
    };
    let mut page = render(site, lang, StatusCode::OK, &CHECKOUT, Some(offer));
    page.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CHECKOUT_CONTENT_SECURITY_POLICY_VALUE),
    );
    page
}

/// No caching for anything the payment routes answer.
pub fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn render(
    site: &Site,
    lang: RequestLang,
    status: StatusCode,
    says: &'static PaySays,
    offer: Option<Offer>,
) -> Response {
    let page = PayPage {
        page: Chrome::new(site, lang, PageId::Error, says.title),
        says,
        offer,
    };
    // If the page cannot render, the error layer dresses the bare status.
    no_store(html(status, &page).unwrap_or_else(IntoResponse::into_response))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header::REFERRER_POLICY;
    use axum::http::Request;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;
    use crate::lang::LangSource;
    use crate::security::CONTENT_SECURITY_POLICY_VALUE;
    use crate::text::pay::{NOT_FOUND, SUCCEEDED};
    use domain::Language;

    fn site() -> Site {
        Site::new(crate::SiteSettings::default())
    }

    fn lang() -> RequestLang {
        RequestLang {
            lang: Language::Ru,
            source: LangSource::Default,
        }
    }

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_page_carries_the_csp_and_no_referrer() {
        let app = crate::security::headers(
            Router::new()
                .route(
                    "/paid",
                    get(|| async { show(&site(), lang(), StatusCode::OK, &SUCCEEDED) }),
                )
                .route(
                    "/none",
                    get(|| async { show(&site(), lang(), StatusCode::NOT_FOUND, &NOT_FOUND) }),
                ),
            false,
        );
        let get = |path: &'static str| {
            let app = app.clone();
            async move {
                app.oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap()
            }
        };
        let r = get("/paid").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY_VALUE
        );
        assert_eq!(r.headers()[REFERRER_POLICY], "no-referrer");
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert!(body(r).await.contains("Paid"));
        assert_eq!(get("/none").await.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn the_checkout_page_posts_its_escaped_parameters_and_nothing_else_runs() {
        let plan = domain::Plan {
            id: domain::PlanId("vip\"<x>".into()),
            days: domain::Days(30),
            price_rub: Some(domain::Money::rub_kopecks(19_900)),
            price_stars: None,
        };
        let r = offer(
            &site(),
            lang(),
            &plan,
            domain::Money::rub_kopecks(19_900),
            "tok",
        );
        assert_eq!(
            r.headers()[CONTENT_SECURITY_POLICY],
            CHECKOUT_CONTENT_SECURITY_POLICY_VALUE
        );
        assert!(CHECKOUT_CONTENT_SECURITY_POLICY_VALUE.contains("default-src 'none'"));
        assert!(!CHECKOUT_CONTENT_SECURITY_POLICY_VALUE.contains("script-src"));
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        let page = body(r).await;
        assert!(page.contains("<form method=post"), "{page}");
        assert!(page.contains("name=\"t\" value=\"tok\""), "{page}");
        assert!(!page.contains("vip\"<x>"), "{page}");
        assert!(page.contains("value=\"vip&#34;&#60;x&#62;\""), "{page}");
        assert!(page.contains("199.00 ₽"), "{page}");
        assert!(!page.contains("<script"), "{page}");
    }
}
