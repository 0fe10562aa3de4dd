//! What the emulated Telegram knows: chats, the update queue, the bot's messages (with edits
//! applied) and the log of the bot's calls.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::failures::{Failure, FailureRule};
use crate::shapes::{self, TgUser};
use crate::Params;

/// One call the bot made.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Params,
    pub files: Vec<UploadedFile>,
    /// Whether the emulator answered it with an error (injected or not).
    pub failed: bool,
    /// When the request arrived (before any hold on its chat).
    pub at: Instant,
}

/// A file uploaded with multipart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    pub field: String,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// One of the bot's messages as it looks now.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub chat_id: i64,
    pub message_id: i64,
    /// The full `Message` object as `sendMessage` returned it, with edits applied.
    pub json: Value,
}

impl SentMessage {
    /// The text, or the caption of a photo or document.
    pub fn text(&self) -> String {
        self.json["text"]
            .as_str()
            .or(self.json["caption"].as_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// The callback data of every inline button, row by row.
    pub fn buttons(&self) -> Vec<String> {
        self.json["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
            .collect()
    }
}

enum Chat {
    Private(TgUser),
    Group(String),
}

#[derive(Default)]
struct Inner {
    chats: HashMap<i64, Chat>,
    /// Updates not yet confirmed by an offset past them, in id order, as the JSON text handed
    /// out (so a test can inject text no JSON library would produce).
    updates: VecDeque<(i64, String)>,
    /// Chats whose calls are not answered until released.
    held_chats: HashSet<i64>,
    /// Calls (other than `getUpdates`) being answered now, and when one last started or ended
    /// or updates were last confirmed.
    calls_in_progress: usize,
    last_call: Option<Instant>,
    /// The bot's messages with the sequence number of their last send or edit.
    messages: BTreeMap<(i64, i64), (Value, u64)>,
    touches: u64,
    next_message_id: HashMap<i64, i64>,
    calls: Vec<Call>,
    /// How many calls earlier `wait_for`s already consumed.
    seen_calls: usize,
    failures: Vec<FailureRule>,
    webhook: Option<String>,
    /// Stars subscriptions by (user id, invoice payload): their charge ids, and whether they
    /// were canceled (by the bot's `editUserStarSubscription` or by the person in Telegram).
    star_subscriptions: HashMap<(i64, String), StarSubscription>,
}

#[derive(Debug, Default)]
struct StarSubscription {
    charge_ids: Vec<String>,
    canceled: bool,
}

/// How long without a call the bot must be before [`State::wait_drained`] calls it quiet.
const QUIET: Duration = Duration::from_millis(200);

pub(crate) struct State {
    pub token: String,
    inner: Mutex<Inner>,
    next_update_id: AtomicI64,
    next_query: AtomicI64,
    pub updates_changed: Notify,
    calls_changed: Notify,
    holds_changed: Notify,
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl State {
    pub fn new(token: &str) -> State {
        State {
            token: token.to_owned(),
            inner: Mutex::new(Inner::default()),
            next_update_id: AtomicI64::new(100_000),
            next_query: AtomicI64::new(1),
            updates_changed: Notify::new(),
            calls_changed: Notify::new(),
            holds_changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock already failed; keep serving the rest.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a payment of the Stars subscription `(user, payload)`; `false` (nothing
    /// recorded) once it is canceled, as Telegram charges a canceled subscription no more.
    pub fn star_subscription_charge(&self, user: i64, payload: &str, charge_id: &str) -> bool {
        let mut inner = self.lock();
        let sub = inner
            .star_subscriptions
            .entry((user, payload.to_owned()))
            .or_default();
        if sub.canceled {
            return false;
        }
        sub.charge_ids.push(charge_id.to_owned());
        true
    }

    /// `editUserStarSubscription`: cancels (or re-enables) the subscription `charge_id` was paid
    /// in; `false` when no subscription of `user` has that charge.
    pub fn edit_star_subscription(&self, user: i64, charge_id: &str, canceled: bool) -> bool {
        let mut inner = self.lock();
        let found = inner
            .star_subscriptions
            .iter_mut()
            .find(|((u, _), s)| *u == user && s.charge_ids.iter().any(|c| c == charge_id));
        match found {
            Some((_, sub)) => {
                sub.canceled = canceled;
                true
            }
            None => false,
        }
    }

    /// The person cancels the subscription `(user, payload)` inside Telegram.
    pub fn cancel_star_subscription(&self, user: i64, payload: &str) {
        self.lock()
            .star_subscriptions
            .entry((user, payload.to_owned()))
            .or_default()
            .canceled = true;
    }

    pub fn star_subscription_canceled(&self, user: i64, payload: &str) -> bool {
        self.lock()
            .star_subscriptions
            .get(&(user, payload.to_owned()))
            .is_some_and(|s| s.canceled)
    }

    pub fn register_private_chat(&self, user: &TgUser) {
        self.lock()
            .chats
            .insert(user.id, Chat::Private(user.clone()));
    }

    pub fn register_group_chat(&self, id: i64, title: &str) {
        self.lock().chats.insert(id, Chat::Group(title.to_owned()));
    }

    pub fn next_query_id(&self) -> String {
        format!("q{}", self.next_query.fetch_add(1, Ordering::Relaxed))
    }

    pub fn push_update(&self, kind: Value) -> i64 {
        let id = self.next_update_id.fetch_add(1, Ordering::Relaxed);
        self.push_update_with_id(id, kind);
        id
    }

    pub fn push_update_with_id(&self, id: i64, mut kind: Value) {
        kind["update_id"] = json!(id);
        self.push_text(id, kind.to_string());
    }

    /// Queues an update given as JSON text: the body of an object without `update_id`
    /// (`{"message":...}`), which gets the next id as its first member.
    pub fn push_raw(&self, body: &str) -> i64 {
        let id = self.next_update_id.fetch_add(1, Ordering::Relaxed);
        let rest = body.trim().strip_prefix('{').unwrap_or(body).trim_start();
        let text = if rest.starts_with('}') {
            format!("{{\"update_id\":{id}}}")
        } else {
            format!("{{\"update_id\":{id},{rest}")
        };
        self.push_text(id, text);
        id
    }

    fn push_text(&self, id: i64, text: String) {
        let mut inner = self.lock();
        inner.updates.push_back((id, text));
        inner.updates.make_contiguous().sort_by_key(|(id, _)| *id);
        drop(inner);
        self.updates_changed.notify_waiters();
    }

    /// Calls to `chat_id` wait (unanswered) until [`State::release_chat`].
    pub fn hold_chat(&self, chat_id: i64) {
        self.lock().held_chats.insert(chat_id);
    }

    pub fn release_chat(&self, chat_id: i64) {
        self.lock().held_chats.remove(&chat_id);
        self.holds_changed.notify_waiters();
    }

    /// Returns once calls to `chat_id` (if any) are not held.
    pub async fn wait_unheld(&self, chat_id: Option<i64>) {
        let Some(chat_id) = chat_id else {
            return;
        };
        loop {
            let released = self.holds_changed.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !self.lock().held_chats.contains(&chat_id) {
                return;
            }
            released.await;
        }
    }

    /// Confirms updates below `offset` (Telegram forgets them) and returns up to `limit` of the
    /// rest, as JSON text.
    pub fn take_updates(&self, offset: Option<i64>, limit: usize) -> Vec<String> {
        let mut inner = self.lock();
        if let Some(offset) = offset {
            let before = inner.updates.len();
            inner.updates.retain(|(id, _)| *id >= offset);
            if inner.updates.len() < before {
                // Confirmed updates are being handled now: that counts as activity.
                inner.last_call = Some(Instant::now());
            }
        }
        let out = inner
            .updates
            .iter()
            .take(limit)
            .map(|(_, u)| u.clone())
            .collect();
        drop(inner);
        self.calls_changed.notify_waiters();
        out
    }

    pub fn is_unconfirmed(&self, id: i64) -> bool {
        self.lock().updates.iter().any(|(queued, _)| *queued == id)
    }

    pub fn webhook(&self) -> Option<String> {
        self.lock().webhook.clone()
    }

    pub fn set_webhook(&self, url: Option<String>) {
        self.lock().webhook = url;
    }

    pub fn chat_json(&self, chat_id: i64) -> Option<Value> {
        match self.lock().chats.get(&chat_id)? {
            Chat::Private(user) => Some(user.private_chat()),
            Chat::Group(title) => Some(shapes::group_chat(chat_id, title)),
        }
    }

    /// A message from a person in `chat_id`, optionally replying to the bot's message.
    pub fn user_message(
        &self,
        from: &TgUser,
        chat_id: i64,
        content: Value,
        reply_to: Option<i64>,
    ) -> Value {
        let chat = self
            .chat_json(chat_id)
            .unwrap_or_else(|| from.private_chat());
        let mut message = json!({
            "message_id": self.next_message_id(chat_id),
            "from": from.to_json(), "chat": chat, "date": now_unix(),
        });
        if let (Value::Object(m), Value::Object(c)) = (&mut message, content) {
            m.extend(c);
        }
        if let Some(reply_to) = reply_to.and_then(|id| self.bot_message_json(chat_id, id)) {
            message["reply_to_message"] = reply_to;
        }
        message
    }

    pub fn next_message_id(&self, chat_id: i64) -> i64 {
        let mut inner = self.lock();
        let next = inner.next_message_id.entry(chat_id).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    /// Stores a message the bot sent; returns it as Telegram would.
    pub fn record_bot_message(&self, chat_id: i64, chat: Value, content: Value) -> Value {
        let message_id = self.next_message_id(chat_id);
        let mut message = json!({
            "message_id": message_id, "from": shapes::bot_user(), "chat": chat,
            "date": now_unix(),
        });
        if let (Value::Object(m), Value::Object(c)) = (&mut message, content) {
            m.extend(c);
        }
        let mut inner = self.lock();
        inner.touches += 1;
        let touch = inner.touches;
        inner
            .messages
            .insert((chat_id, message_id), (message.clone(), touch));
        message
    }

    pub fn bot_message_json(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        self.lock()
            .messages
            .get(&(chat_id, message_id))
            .map(|(m, _)| m.clone())
    }

    /// Applies an edit to a stored message; `None` if there is no such message.
    pub fn edit_bot_message(
        &self,
        chat_id: i64,
        message_id: i64,
        edit: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let mut inner = self.lock();
        inner.touches += 1;
        let touch = inner.touches;
        let (message, touched) = inner.messages.get_mut(&(chat_id, message_id))?;
        edit(message);
        message["edit_date"] = json!(now_unix());
        *touched = touch;
        Some(message.clone())
    }

    pub fn delete_bot_message(&self, chat_id: i64, message_id: i64) -> bool {
        self.lock()
            .messages
            .remove(&(chat_id, message_id))
            .is_some()
    }

    pub fn chat_messages(&self, chat_id: i64) -> Vec<crate::SentMessage> {
        self.lock()
            .messages
            .range((chat_id, i64::MIN)..=(chat_id, i64::MAX))
            .map(|((chat_id, message_id), (json, _))| crate::SentMessage {
                chat_id: *chat_id,
                message_id: *message_id,
                json: json.clone(),
            })
            .collect()
    }

    /// The message in the chat the bot sent or edited last.
    pub fn last_touched(&self, chat_id: i64) -> Option<crate::SentMessage> {
        self.lock()
            .messages
            .range((chat_id, i64::MIN)..=(chat_id, i64::MAX))
            .max_by_key(|(_, (_, touch))| *touch)
            .map(|((chat_id, message_id), (json, _))| crate::SentMessage {
                chat_id: *chat_id,
                message_id: *message_id,
                json: json.clone(),
            })
    }

    pub fn add_failure(
        &self,
        method: Option<String>,
        chat_id: Option<i64>,
        count: u32,
        failure: Failure,
    ) {
        self.lock().failures.push(FailureRule {
            method,
            chat_id,
            remaining: count,
            failure,
        });
    }

    /// The failure this call of `method` must get, if a rule says so (spending one).
    pub fn take_failure(&self, method: &str, chat_id: Option<i64>) -> Option<Failure> {
        let mut inner = self.lock();
        let rule = inner
            .failures
            .iter_mut()
            .find(|r| r.matches(method, chat_id))?;
        rule.remaining -= 1;
        Some(rule.failure)
    }

    pub fn record_call(&self, call: Call) {
        if call.method != "getUpdates" {
            self.lock().calls.push(call);
            self.calls_changed.notify_waiters();
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub async fn wait_for(&self, pred: impl Fn(&Call) -> bool, wait: Duration) -> Call {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.calls_changed.notified();
            {
                let mut inner = self.lock();
                let start = inner.seen_calls;
                let found = inner.calls[start..].iter().position(&pred);
                if let Some(i) = found {
                    inner.seen_calls = start + i + 1;
                    return inner.calls[start + i].clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let methods: Vec<String> = self.calls().iter().map(|c| c.method.clone()).collect();
                panic!("the bot made no expected call within {wait:?}; calls so far: {methods:?}");
            }
        }
    }

    pub async fn wait_drained(&self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        self.wait_confirmed(wait).await;
        // A bot may confirm updates before it has handled them: wait for its calls to stop.
        loop {
            let quiet = {
                let inner = self.lock();
                inner.calls_in_progress == 0
                    && inner.last_call.is_none_or(|at| at.elapsed() >= QUIET)
            };
            if quiet {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot did not go quiet within {wait:?}"
            );
            tokio::time::sleep(QUIET / 10).await;
        }
    }

    pub async fn wait_confirmed(&self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.calls_changed.notified();
            if self.lock().updates.is_empty() {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("the bot did not confirm every update within {wait:?}");
            }
        }
    }

    /// A call (other than `getUpdates`) starts; it ends when the guard is dropped (answered,
    /// or abandoned by the client).
    pub fn call_started(&self) -> CallInProgress<'_> {
        let mut inner = self.lock();
        inner.calls_in_progress += 1;
        inner.last_call = Some(Instant::now());
        CallInProgress { state: self }
    }
}

pub(crate) struct CallInProgress<'a> {
    state: &'a State,
}

impl Drop for CallInProgress<'_> {
    fn drop(&mut self) {
        let mut inner = self.state.lock();
        inner.calls_in_progress = inner.calls_in_progress.saturating_sub(1);
        inner.last_call = Some(Instant::now());
    }
}
