-- What the Telegram bot keeps so that a restart loses nothing and nothing happens twice:
-- updates already handled, reminders already sent, conversation state, whether the person
-- blocked the bot, and support tickets. Keep in step with ../postgres.

-- Telegram update ids already handled (an update delivered twice acts once). No personal data.
CREATE TABLE bot_updates (
    update_id    INTEGER PRIMARY KEY,
    received_at  INTEGER NOT NULL
);

-- One row per reminder sent; the key makes each (person, kind, subscription end) send once.
CREATE TABLE reminders_sent (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL,
    ends_at  INTEGER NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, ends_at)
);

-- Where each person is in a conversation with the bot, as the bot encodes it.
CREATE TABLE conversations (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- 1 once Telegram said the person blocked the bot: not messaged again until they write.
ALTER TABLE users ADD COLUMN bot_unreachable INTEGER NOT NULL DEFAULT 0;

-- Support: personal data, erased with the person and pruned by their own retention.
CREATE TABLE support_tickets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX support_tickets_user_id ON support_tickets (user_id);

-- relay_*: the copy of the message in the operator's support chat, so a reply to it finds
-- its ticket.
CREATE TABLE support_messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id         INTEGER NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    from_operator     INTEGER NOT NULL CHECK (from_operator IN (0, 1)),
    body              TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    relay_chat_id     INTEGER,
    relay_message_id  INTEGER
);
CREATE INDEX support_messages_ticket_id ON support_messages (ticket_id);
CREATE INDEX support_messages_relay ON support_messages (relay_chat_id, relay_message_id);
