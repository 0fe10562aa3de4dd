//! A Telegram Bot API emulator for tests: an HTTP server on loopback that speaks the Bot API's
//! wire format (`/bot<token>/<method>`, JSON, form or multipart bodies, `{"ok":...}` replies),
//! hands out updates a test injects through `getUpdates` long polling, and records every call the
//! bot makes so the test can read what a person would have seen.
//!
//! ```ignore
//! let tg = Emulator::start("123:abc").await;
//! let alice = tg.user(1001, "Alice", Some("en"));
//! tg.send_text(&alice, "/start");
//! let call = tg.wait_for(|c| c.method == "sendMessage").await;
//! ```

mod failures;
mod html;
mod params;
mod server;
mod shapes;
mod state;

pub use failures::Failure;
pub use params::Params;
pub use shapes::TgUser;
pub use state::{Call, SentMessage, UploadedFile};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::state::State;

/// How long [`Emulator::wait_for`] waits before failing the test.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// The bot the emulator pretends to be (answers `getMe`).
pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_USERNAME: &str = "milly_test_bot";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on loopback: {0}")]
    Bind(std::io::Error),
}

/// A running emulator; the server stops when this is dropped.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Emulator {
    /// Starts a server on 127.0.0.1 with a free port, accepting requests for `token` only.
    pub async fn start(token: &str) -> Result<Emulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(EmulatorError::Bind)?;
        let addr = listener.local_addr().map_err(EmulatorError::Bind)?;
        let state = Arc::new(State::new(token));
        let router = server::router(state.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::warn!(error = %err, "emulator server stopped");
            }
        });
        Ok(Emulator {
            addr,
            state,
            server,
        })
    }

    /// The base URL to give the bot as its API URL (`http://127.0.0.1:PORT`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A Telegram user who will write to the bot; their private chat becomes known.
    pub fn user(&self, id: i64, first_name: &str, language_code: Option<&str>) -> TgUser {
        let user = TgUser {
            id,
            first_name: first_name.to_owned(),
            last_name: None,
            username: None,
            language_code: language_code.map(str::to_owned),
        };
        self.state.register_private_chat(&user);
        user
    }

    /// Makes a person known with all their details (names, username).
    pub fn register(&self, user: &TgUser) {
        self.state.register_private_chat(user);
    }

    /// Makes a group chat known (e.g. the operator's support chat).
    pub fn group(&self, chat_id: i64, title: &str) {
        self.state.register_group_chat(chat_id, title);
    }

    /// Queues an update whose body is `kind` (e.g. `{"message": {...}}`); returns its id.
    pub fn inject(&self, kind: Value) -> i64 {
        self.state.push_update(kind)
    }

    /// Queues an update with an explicit id (to deliver the same update twice).
    pub fn inject_with_id(&self, update_id: i64, kind: Value) {
        self.state.push_update_with_id(update_id, kind);
    }

    /// Queues an update given as JSON text, byte for byte: `body` is the update object without
    /// `update_id` (`{"message":{...}}`), which gets the next id. For updates no JSON library
    /// would write, e.g. [`Emulator::inject_unparseable`]; returns the id.
    pub fn inject_raw(&self, body: &str) -> i64 {
        self.state.push_raw(body)
    }

    /// Queues a private text message from `from` whose text holds a lone UTF-16 surrogate
    /// (`"\ud800"`): valid JSON to a lenient reader, refused by serde_json and so by
    /// `teloxide-core`, which fails a whole `getUpdates` batch on it. Returns the update's id.
    pub fn inject_unparseable(&self, from: &TgUser) -> i64 {
        let update = self.text_update(from, "\u{0}marker");
        let text = update
            .to_string()
            .replace(r#""\u0000marker""#, r#""\ud800""#);
        self.inject_raw(&text)
    }

    /// Calls addressed to `chat_id` get no answer until [`Emulator::release_chat`]: a slow
    /// Telegram for that chat only.
    pub fn hold_chat(&self, chat_id: i64) {
        self.state.hold_chat(chat_id);
    }

    pub fn release_chat(&self, chat_id: i64) {
        self.state.release_chat(chat_id);
    }

    /// The person writes `text` in their private chat with the bot.
    pub fn send_text(&self, from: &TgUser, text: &str) -> i64 {
        let update = self.text_update(from, text);
        self.inject(update)
    }

    /// The body of an update carrying a private text message, for injecting (or delivering
    /// twice with [`Emulator::inject_with_id`]).
    pub fn text_update(&self, from: &TgUser, text: &str) -> Value {
        let message = self
            .state
            .user_message(from, from.id, json!({ "text": text }), None);
        json!({ "message": message })
    }

    /// Someone writes `text` in `chat_id` as a reply to the bot's message `reply_to`.
    pub fn reply_text(&self, from: &TgUser, chat_id: i64, reply_to: i64, text: &str) -> i64 {
        let message =
            self.state
                .user_message(from, chat_id, json!({ "text": text }), Some(reply_to));
        self.inject(json!({ "message": message }))
    }

    /// The person presses an inline button with `data` under the bot's message `message_id`.
    pub fn press(&self, from: &TgUser, message_id: i64, data: &str) -> i64 {
        let message = self.state.bot_message_json(from.id, message_id);
        let query = shapes::callback_query(
            &self.state.next_query_id(),
            from,
            message.unwrap_or(Value::Null),
            data,
        );
        self.inject(json!({ "callback_query": query }))
    }

    /// Telegram asks the bot to confirm a checkout; returns the query id.
    pub fn pre_checkout(&self, from: &TgUser, currency: &str, total: i64, payload: &str) -> String {
        let id = self.state.next_query_id();
        self.inject(json!({ "pre_checkout_query": {
            "id": id, "from": from.to_json(), "currency": currency,
            "total_amount": total, "invoice_payload": payload,
        }}));
        id
    }

    /// The body of an update announcing a successful payment, for injecting (or replaying).
    pub fn successful_payment(
        &self,
        from: &TgUser,
        currency: &str,
        total: i64,
        payload: &str,
        charge_id: &str,
    ) -> Value {
        let payment = json!({
            "currency": currency, "total_amount": total, "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": "",
        });
        let message = self.state.user_message(
            from,
            from.id,
            json!({ "successful_payment": payment }),
            None,
        );
        json!({ "message": message })
    }

    /// The body of an update announcing a payment of a Stars subscription (the first one, or a
    /// renewal Telegram charged by itself: `is_recurring`), paid until `expires_at` (unix
    /// seconds). `None` when the subscription was canceled (by the bot or in Telegram):
    /// Telegram charges it no more.
    pub fn subscription_payment(
        &self,
        from: &TgUser,
        total: i64,
        payload: &str,
        charge_id: &str,
        expires_at: i64,
        first: bool,
    ) -> Option<Value> {
        if !self
            .state
            .star_subscription_charge(from.id, payload, charge_id)
        {
            return None;
        }
        let payment = json!({
            "currency": "XTR", "total_amount": total, "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": "",
            "subscription_expiration_date": expires_at,
            "is_recurring": true, "is_first_recurring": first,
        });
        let message = self.state.user_message(
            from,
            from.id,
            json!({ "successful_payment": payment }),
            None,
        );
        Some(json!({ "message": message }))
    }

    /// The person cancels their Stars subscription `payload` inside Telegram: no further
    /// payments, and the bot is not told (as in Telegram).
    pub fn cancel_subscription_in_telegram(&self, from: &TgUser, payload: &str) {
        self.state.cancel_star_subscription(from.id, payload);
    }

    /// Whether the subscription `payload` of `from` is canceled (by the bot or the person).
    pub fn subscription_canceled(&self, from: &TgUser, payload: &str) -> bool {
        self.state.star_subscription_canceled(from.id, payload)
    }

    /// The next `count` calls (of `method`, if given, else any but `getUpdates`) fail this way.
    pub fn fail_next(&self, method: Option<&str>, count: u32, failure: Failure) {
        self.state
            .add_failure(method.map(str::to_owned), None, count, failure);
    }

    /// Like [`Emulator::fail_next`], only for calls addressed to `chat_id`.
    pub fn fail_next_in_chat(
        &self,
        chat_id: i64,
        method: Option<&str>,
        count: u32,
        failure: Failure,
    ) {
        self.state
            .add_failure(method.map(str::to_owned), Some(chat_id), count, failure);
    }

    /// Every call the bot made so far, oldest first (`getUpdates` excluded).
    pub fn calls(&self) -> Vec<Call> {
        self.state.calls()
    }

    /// How many calls of `method` the bot made so far.
    pub fn count(&self, method: &str) -> usize {
        self.calls().iter().filter(|c| c.method == method).count()
    }

    /// Waits until a call made after the previous `wait_for` matches `pred` and returns it,
    /// panicking (failing the test) after [`DEFAULT_WAIT`].
    pub async fn wait_for(&self, pred: impl Fn(&Call) -> bool) -> Call {
        self.state.wait_for(pred, DEFAULT_WAIT).await
    }

    /// Whether update `id` is still queued: not yet confirmed by an offset past it.
    pub fn is_unconfirmed(&self, id: i64) -> bool {
        self.state.is_unconfirmed(id)
    }

    /// Waits until every queued update has been fetched and confirmed by the bot, and then
    /// until the bot's calls stop (none answered or started for 200 ms): a bot confirms
    /// updates once it has them, and may still be handling them.
    pub async fn wait_drained(&self) {
        self.state.wait_drained(DEFAULT_WAIT).await;
    }

    /// Waits until every queued update has been fetched and confirmed by the bot, and no
    /// longer (for a test that knows by other means when the bot is done).
    pub async fn wait_confirmed(&self) {
        self.state.wait_confirmed(DEFAULT_WAIT).await;
    }

    /// The bot's messages in a chat as they look now (edits applied), oldest first.
    pub fn chat(&self, chat_id: i64) -> Vec<SentMessage> {
        self.state.chat_messages(chat_id)
    }

    /// The bot's message in a chat that it sent or edited last: what the person looks at.
    pub fn last_message(&self, chat_id: i64) -> Option<SentMessage> {
        self.state.last_touched(chat_id)
    }
}
