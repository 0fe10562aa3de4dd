//! The bot running against the Telegram emulator over HTTP, on a throwaway store; helpers that
//! read like what a person does.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use app::{App, AppSettings};
use bot::{BotError, BotMetrics, BotOptions, BotSettings, TrialKey};
use domain::Secret;
use serde_json::Value;
use sqlx::Row as _;
use store::testing::TestDb;
use tg_emulator::{Call, Emulator, SentMessage, TgUser};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "7000000001:test-token";
pub const ADMIN: i64 = 500;
pub const SUPPORT_CHAT: i64 = -100_777;
pub const PUBLIC_URL: &str = "https://vpn.test";

pub struct Harness {
    pub tg: Emulator,
    pub app: App,
    options: BotOptions,
    running: Option<(CancellationToken, JoinHandle<Result<(), BotError>>)>,
}

/// What `milly.toml` would say for the bot under test: the use cases' settings and the bot's.
pub struct Settings {
    pub app: AppSettings,
    pub bot: BotSettings,
}

pub fn settings(api_url: &str) -> Settings {
    Settings {
        app: AppSettings {
            admins: vec![ADMIN],
            support_chat_id: SUPPORT_CHAT,
            public_url: PUBLIC_URL.parse().unwrap(),
            service_name: "milly".into(),
            ..AppSettings::default()
        },
        bot: BotSettings {
            token: Secret::new(TOKEN),
            api_url: api_url.to_owned(),
            webhook_url: String::new(),
            reminder_days: vec![3, 1],
        },
    }
}

/// The website beside the bot, at the same public address.
pub fn site(app: &App) -> web::Site {
    web::Site::new(web::SiteSettings {
        public_url: app.settings().public_url.clone(),
        ..web::SiteSettings::default()
    })
    .with_app(app.clone())
}

impl Harness {
    pub async fn start(db: &TestDb) -> Harness {
        Self::start_with(db, |_| {}).await
    }

    /// The bot with `tweak`ed settings. Reminders and node alerts are looked for only at start,
    /// so they never interleave with a scenario's messages; see [`Harness::start_reminding`]
    /// and [`Harness::start_watching_nodes`].
    pub async fn start_with(db: &TestDb, tweak: impl FnOnce(&mut Settings)) -> Harness {
        Self::start_full(
            db,
            tweak,
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        )
        .await
    }

    /// The bot looking for due reminders five times a second.
    pub async fn start_reminding(db: &TestDb) -> Harness {
        Self::start_full(
            db,
            |_| {},
            Duration::from_millis(200),
            Duration::from_secs(3600),
        )
        .await
    }

    /// The bot looking at the remote nodes for alerts five times a second.
    pub async fn start_watching_nodes(db: &TestDb) -> Harness {
        Self::start_full(
            db,
            |_| {},
            Duration::from_secs(3600),
            Duration::from_millis(200),
        )
        .await
    }

    async fn start_full(
        db: &TestDb,
        tweak: impl FnOnce(&mut Settings),
        reminder_interval: Duration,
        node_check_interval: Duration,
    ) -> Harness {
        let tg = Emulator::start(TOKEN).await.unwrap();
        tg.group(SUPPORT_CHAT, "Support");
        let mut settings = settings(&tg.api_url());
        tweak(&mut settings);
        let app = App::new(db.store.clone(), settings.app);
        let mut options = BotOptions::new(settings.bot, TrialKey::new(vec![42u8; 32]).unwrap());
        options.reminder_interval = reminder_interval;
        options.node_check_interval = node_check_interval;
        let mut harness = Harness {
            tg,
            app,
            options,
            running: None,
        };
        harness.run();
        harness.tg.wait_for(|c| c.method == "setMyCommands").await;
        harness
    }

    /// The bot's settings, as the running bot has them.
    pub fn bot_settings(&self) -> &BotSettings {
        &self.options.settings
    }

    fn run(&mut self) {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(bot::run(
            self.app.clone(),
            self.options.clone(),
            shutdown.clone(),
        ));
        self.running = Some((shutdown, task));
    }

    /// Stops the bot (as on SIGTERM) and waits until it has.
    pub async fn stop(&mut self) {
        if let Some((shutdown, task)) = self.running.take() {
            shutdown.cancel();
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the bot stops within 10 s")
                .unwrap()
                .unwrap();
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.run();
        self.tg.wait_for(|c| c.method == "setMyCommands").await;
    }

    /// The next call of `method` to `chat`.
    pub async fn next(&self, method: &str, chat: i64) -> Call {
        let method = method.to_owned();
        self.tg
            .wait_for(move |c| c.method == method && c.params.i64("chat_id") == Some(chat))
            .await
    }

    /// The bot's latest message in the chat (edits applied).
    pub fn screen(&self, chat: i64) -> SentMessage {
        self.tg
            .last_message(chat)
            .expect("the bot wrote to the chat")
    }

    /// Presses the button with `data` on the bot's latest message in the person's chat that
    /// has it, and waits until the bot has handled the press.
    pub async fn press(&self, who: &TgUser, data: &str) {
        let messages = self.tg.chat(who.id);
        let Some(screen) = messages
            .iter()
            .rev()
            .find(|m| m.buttons().iter().any(|b| b == data))
        else {
            let last = messages.last().map(SentMessage::buttons);
            panic!("no button {data} in the chat; the last message has {last:?}");
        };
        self.tg.press(who, screen.message_id, data);
        self.settle().await;
    }

    /// Waits until the bot has handled everything injected so far.
    pub async fn settle(&self) {
        // An update leaves the queue when the next poll confirms it, once claimed; it is
        // handled when nothing is in flight any more.
        self.tg.wait_confirmed().await;
        let metrics = self.metrics();
        for _ in 0..1500 {
            if metrics.updates_in_flight() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the bot did not finish its updates within 15 s");
    }

    /// The bot's intake counters (shared with the running bot).
    pub fn metrics(&self) -> BotMetrics {
        self.options.metrics.clone()
    }
}

/// How many rows `table` has.
pub async fn count(db: &TestDb, table: &str) -> i64 {
    let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(store::testing::pool(&db.store))
        .await
        .unwrap();
    row.get("n")
}

/// The entities of a given type in a message, as the text they cover.
pub fn entities(message: &SentMessage, kind: &str) -> Vec<String> {
    let text: Vec<u16> = message.text().encode_utf16().collect();
    message.json["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == kind)
        .map(|e: &Value| {
            let offset = e["offset"].as_u64().unwrap() as usize;
            let length = e["length"].as_u64().unwrap() as usize;
            String::from_utf16_lossy(&text[offset..offset + length])
        })
        .collect()
}
