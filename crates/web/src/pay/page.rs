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
use crate::text::me::MeText;
use crate::text::pay::{
    promo_note, AutoRenewChoice, PaySays, AUTO_RENEW_CHOICE, CHECKOUT, CHECKOUT_GIFT, PAY_BUTTON,
    PROMO_APPLY, PROMO_LABEL,
};
use domain::{Language, PaymentMethod};

/// The plan a checkout link offers, as its page shows it.
pub struct Offer {
    pub plan: String,
    pub days: u32,
    pub price: String,
    /// The link's own token, posted back by the button.
    pub token: String,
    pub action: &'static str,
    pub button: &'static str,
    /// The ways to pay to choose from, when the operator offers several: (code, label).
    pub methods: Vec<(&'static str, String)>,
    /// The discount code applied to `price` (posted back by the button), or empty.
    pub promo: String,
    /// The price before the discount, when one is applied.
    pub full_price: Option<String>,
    /// What the page says about the code entered, in Russian and English.
    pub promo_note: Option<(&'static str, &'static str)>,
    pub promo_label: &'static str,
    pub promo_button: &'static str,
    /// Bought as a gift: the form posts `gift=1` back.
    pub gift: bool,
    /// The opt-in checkbox for auto-renewal (never ticked by default); none for a gift (not
    /// the buyer's own plan) or when no way to pay on offer is a card.
    pub auto_renew: Option<&'static AutoRenewChoice>,
}

/// What the checkout page offers: the plan at `price` for the link's `token`, the ways to pay
/// to choose from, what a discount code did, and whether it is bought as a gift.
pub struct Checkout<'a> {
    pub plan: &'a domain::Plan,
    pub price: domain::Money,
    pub token: &'a str,
    pub methods: &'a [domain::PaymentMethod],
    pub promo: Option<PromoShown>,
    pub gift: bool,
}

/// A discount code on the checkout page: the code applied and the full price, or why the code
/// entered was refused (the full price is shown then).
pub enum PromoShown {
    Applied {
        code: String,
        full_price: domain::Money,
    },
    Refused(domain::PromoRefusal),
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
/// `promo` says what a discount code did to the price.
pub fn offer(
    site: &Site,
    lang: RequestLang,
    status: StatusCode,
    checkout: Checkout<'_>,
) -> Response {
    let Checkout {
        plan,
        price,
        token,
        methods,
        promo,
        gift,
    } = checkout;
    let card_offered = methods.is_empty() || methods.contains(&PaymentMethod::BankCard);
    let methods = if methods.len() > 1 {
        let (ru, en) = (MeText::get(Language::Ru), MeText::get(Language::En));
        methods
            .iter()
            .map(|m| {
                let label = format!("{} · {}", ru.method(m.code()), en.method(m.code()));
                (m.code(), label)
            })
            .collect()
    } else {
        Vec::new()
    };
    let rub = |m: domain::Money| format!("{} ₽", billing::amount::to_value(m));
    let (code, full_price, promo_note) = match promo {
        None => (String::new(), None, None),
        Some(PromoShown::Applied { code, full_price }) => {
            (code, Some(rub(full_price)), Some(promo_note(None)))
        }
        Some(PromoShown::Refused(r)) => (String::new(), None, Some(promo_note(Some(r)))),
    };
    let auto_renew = (!gift && card_offered).then_some(&AUTO_RENEW_CHOICE);
    let offer = Offer {
        plan: plan.id.0.clone(),
        days: plan.days.0,
        price: rub(price),
        token: token.to_owned(),
        action: app::CARD_CHECKOUT_PATH,
        button: PAY_BUTTON,
        methods,
        promo: code,
        full_price,
        promo_note,
        promo_label: PROMO_LABEL,
        promo_button: PROMO_APPLY,
        gift,
        auto_renew,
    };
    let says = if gift { &CHECKOUT_GIFT } else { &CHECKOUT };
    let mut page = render(site, lang, status, says, Some(offer));
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
            StatusCode::OK,
            Checkout {
                plan: &plan,
                price: domain::Money::rub_kopecks(19_900),
                token: "tok",
                methods: &[],
                promo: None,
                gift: false,
            },
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
        assert!(page.contains("<form method=get"), "the promo field: {page}");
        assert!(page.contains("name=\"promo\" value=\"\""), "{page}");
        assert!(
            !page.contains("name=\"gift\""),
            "a plain purchase posts no gift flag"
        );
    }

    #[tokio::test]
    async fn a_discounted_checkout_shows_both_prices_and_posts_its_code() {
        let plan = domain::Plan {
            id: domain::PlanId("month".into()),
            days: domain::Days(30),
            price_rub: Some(domain::Money::rub_kopecks(20_000)),
            price_stars: None,
        };
        let applied = PromoShown::Applied {
            code: "SPRING-25".into(),
            full_price: domain::Money::rub_kopecks(20_000),
        };
        let r = offer(
            &site(),
            lang(),
            StatusCode::OK,
            Checkout {
                plan: &plan,
                price: domain::Money::rub_kopecks(15_000),
                token: "tok",
                methods: &[],
                promo: Some(applied),
                gift: false,
            },
        );
        let page = body(r).await;
        assert!(page.contains("<s>200.00 ₽</s>"), "{page}");
        assert!(page.contains("150.00 ₽"), "{page}");
        assert!(
            page.contains("name=\"promo\" value=\"SPRING-25\""),
            "{page}"
        );
        assert!(page.contains("Promo code applied"), "{page}");
        let refused = offer(
            &site(),
            lang(),
            StatusCode::CONFLICT,
            Checkout {
                plan: &plan,
                price: domain::Money::rub_kopecks(20_000),
                token: "tok",
                methods: &[],
                promo: Some(PromoShown::Refused(domain::PromoRefusal::AlreadyUsed)),
                gift: false,
            },
        );
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let page = body(refused).await;
        assert!(page.contains("Вы уже использовали этот промокод"), "{page}");
        assert!(!page.contains("<s>"), "{page}");
    }

    #[tokio::test]
    async fn a_gift_checkout_page_says_so_and_posts_the_gift_flag() {
        let plan = domain::Plan {
            id: domain::PlanId("month".into()),
            days: domain::Days(30),
            price_rub: Some(domain::Money::rub_kopecks(19_900)),
            price_stars: None,
        };
        let r = offer(
            &site(),
            lang(),
            StatusCode::OK,
            Checkout {
                plan: &plan,
                price: domain::Money::rub_kopecks(19_900),
                token: "tok",
                methods: &[],
                promo: None,
                gift: true,
            },
        );
        let page = body(r).await;
        assert!(page.contains("name=\"gift\" value=\"1\""), "{page}");
        assert!(
            page.contains("в подарок") && page.contains("as a gift"),
            "{page}"
        );
    }
}
