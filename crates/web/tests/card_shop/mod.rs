//! A shop for the card payment scenarios: a throwaway store, the YooKassa emulator, and the
//! website with card payments served on loopback the way `milly serve` serves it (with the
//! peer address).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use app::{App, AppSettings, CardPayments};
use billing::{IpNetwork, SourcePolicy, YooKassaSettings};
use domain::{
    NewUser, Payment, PaymentStatus, Secret, Subscription, SubscriptionToken, TelegramId, User,
};
use store::testing::TestDb;
use store::Store;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use yookassa_emulator::Emulator;

pub const SHOP_ID: &str = "100500";
pub const SECRET_KEY: &str = "test_secret_key_never_logged";
pub const RECEIPT_EMAIL: &str = "receipts@shop.example";
/// The shop's bot: Telegram's login data for the website is signed with its token.
pub const BOT_TOKEN: &str = "777000:shop-bot-token-for-tests";

pub struct Shop {
    pub yk: Arc<Emulator>,
    pub cards: CardPayments,
    store: Store,
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A policy that lets the emulator (on loopback) through, as YooKassa's networks would.
pub fn loopback_is_yookassa() -> SourcePolicy {
    SourcePolicy {
        check: true,
        allowed: vec!["127.0.0.1/32".parse::<IpNetwork>().unwrap()],
        identity: Default::default(),
    }
}

/// The settings a shop with card payments and receipts has; `public_url` is filled in once
/// the routes listen.
pub fn settings(api_url: &str, public_url: &str) -> AppSettings {
    AppSettings {
        yookassa: YooKassaSettings {
            enabled: true,
            shop_id: Secret::new(SHOP_ID),
            secret_key: Secret::new(SECRET_KEY),
            api_url: api_url.to_owned(),
            payment_methods: Vec::new(),
        },
        receipts: true,
        receipt_email: RECEIPT_EMAIL.to_owned(),
        public_url: public_url.parse().unwrap(),
        bot_api: billing::telegram_stars::BotApi {
            api_url: String::new(),
            token: Secret::new(BOT_TOKEN),
        },
        ..AppSettings::default()
    }
}

impl Shop {
    /// A shop over `store` whose webhook trusts `policy`, with a fresh emulator.
    pub async fn open(store: Store, policy: SourcePolicy) -> Shop {
        let yk = Emulator::start(SHOP_ID, SECRET_KEY).await.unwrap();
        Shop::open_with(store, policy, Arc::new(yk)).await
    }

    /// A shop over `store` talking to an existing emulator (a restarted process).
    pub async fn open_with(store: Store, policy: SourcePolicy, yk: Arc<Emulator>) -> Shop {
        Shop::open_tuned(store, policy, yk, |_| {}).await
    }

    /// [`Shop::open_with`], its settings changed by `tune` first.
    pub async fn open_tuned(
        store: Store,
        policy: SourcePolicy,
        yk: Arc<Emulator>,
        tune: impl FnOnce(&mut AppSettings),
    ) -> Shop {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut settings = settings(&yk.url(), &format!("http://{addr}"));
        tune(&mut settings);
        let site = web::Site::new(web::SiteSettings {
            public_url: settings.public_url.clone(),
            ..web::SiteSettings::default()
        });
        let app = App::new(store.clone(), settings);
        let yookassa = billing::YooKassa::new(&app.settings().yookassa)
            .unwrap()
            .with_source(policy);
        let cards = CardPayments::with_provider(app.clone(), std::sync::Arc::new(yookassa));
        let site = site.with_app(app).with_card_payments(cards.clone());
        let routes = web::router(site);
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                routes.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Shop {
            yk,
            cards,
            store,
            addr,
            server,
        }
    }

    pub fn app(&self) -> &App {
        self.cards.app()
    }

    /// The shop's database, for arranging and checking what the scenarios need below the app.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn webhook_url(&self) -> String {
        format!("http://{}{}", self.addr, web::YOOKASSA_WEBHOOK_PATH)
    }

    /// YooKassa tells our webhook about payment `yk_id`; returns our answer's status.
    pub async fn notify(&self, yk_id: &str) -> u16 {
        self.yk.notify(yk_id, &self.webhook_url()).await.unwrap()
    }

    /// YooKassa tells our webhook about refund `refund_id`; returns our answer's status.
    pub async fn notify_refund(&self, refund_id: &str) -> u16 {
        self.yk
            .notify_refund(refund_id, &self.webhook_url())
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A person who agreed to the policy, with their subscription token.
    pub async fn customer(&self, telegram_id: i64) -> (User, SubscriptionToken) {
        let now = OffsetDateTime::now_utc();
        let mut new = NewUser::from_telegram_id(TelegramId(telegram_id));
        new.consent_at = Some(now);
        let user = self.store().create_user(&new, now).await.unwrap();
        let creds = self.store().credentials(user.id).await.unwrap().unwrap();
        (user, creds.sub_token)
    }

    /// The checkout link the bot gives out, for `token` and `plan`.
    pub fn checkout_link(&self, token: &SubscriptionToken, plan: &str) -> String {
        self.url(&format!(
            "{}?t={}&plan={plan}",
            app::CARD_CHECKOUT_PATH,
            token.as_str()
        ))
    }

    /// Opens the checkout link as a browser or a link previewer would (a GET): status and body.
    pub async fn view_checkout(&self, token: &SubscriptionToken, plan: &str) -> (u16, String) {
        let r = no_redirects()
            .get(self.checkout_link(token, plan))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Presses the checkout page's button (a form POST, without following the redirect) and
    /// returns the status and the Location header.
    pub async fn open_checkout(&self, token: &SubscriptionToken, plan: &str) -> (u16, String) {
        let r = no_redirects()
            .post(self.url(app::CARD_CHECKOUT_PATH))
            .form(&[("t", token.as_str()), ("plan", plan)])
            .send()
            .await
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (r.status().as_u16(), location)
    }

    /// Presses the checkout button with "renew automatically" ticked; returns YooKassa's
    /// payment id.
    pub async fn checkout_auto_renew(&self, token: &SubscriptionToken, plan: &str) -> String {
        let r = no_redirects()
            .post(self.url(app::CARD_CHECKOUT_PATH))
            .form(&[("t", token.as_str()), ("plan", plan), ("auto_renew", "on")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "checkout redirects to YooKassa");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        location.rsplit('/').next().unwrap().to_owned()
    }

    /// Checkout for `plan`, returning YooKassa's payment id.
    pub async fn checkout(&self, token: &SubscriptionToken, plan: &str) -> String {
        let (status, location) = self.open_checkout(token, plan).await;
        assert_eq!(status, 303, "checkout redirects to YooKassa");
        let id = location.rsplit('/').next().unwrap().to_owned();
        assert!(self.yk.payment(&id).is_some(), "{location}");
        id
    }

    /// A customer who paid a month by card, its notice taken: them and YooKassa's payment id.
    pub async fn paid_month(&self, telegram_id: i64) -> (User, String) {
        let (user, token) = self.customer(telegram_id).await;
        let yk_id = self.checkout(&token, "month").await;
        self.yk.succeed(&yk_id).unwrap();
        assert_eq!(self.notify(&yk_id).await, 200);
        (user, yk_id)
    }

    pub async fn ours(&self, provider_id: &str) -> Payment {
        self.store()
            .payment_by_provider_id(domain::Provider::YooKassa, provider_id)
            .await
            .unwrap()
            .expect("the payment is recorded with YooKassa's id")
    }

    /// Our payment `yk_id`'s status and how much of it (kopecks) is refunded.
    pub async fn refund_state(&self, yk_id: &str) -> (PaymentStatus, i64) {
        let p = self.ours(yk_id).await;
        (p.status, p.refunded_minor)
    }

    pub async fn subscription(&self, user: &User) -> Option<Subscription> {
        self.store().subscription(user.id).await.unwrap()
    }
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Every value in every table, as one string to search.
pub async fn whole_database(db: &TestDb) -> String {
    let dump = db.store.dump().await.unwrap();
    serde_json::to_string(&dump).unwrap()
}

/// Days of access the subscription holds in all (each test starts with none).
pub fn days_left(sub: &domain::Subscription) -> i64 {
    (sub.ends_at - sub.activated_at).whole_days()
}
