-- The Telegram bot's tables (SQLite). Keep in step with ../postgres.

-- Telegram update ids the bot has handled, so an update delivered twice acts once. A counter
-- Telegram assigns, linked to nobody: not personal data. Pruned after a few days.
CREATE TABLE bot_updates (
    update_id   INTEGER PRIMARY KEY,
    handled_at  INTEGER NOT NULL
);

-- Conversation state of each person who agreed to the policy, so a restart loses nothing.
-- Erased with the person.
CREATE TABLE bot_chats (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- What the person's next text message is: 'email', 'support', or NULL (nothing).
    awaiting         TEXT,
    -- The bot's menu message, edited in place.
    menu_message_id  INTEGER,
    -- The person blocked the bot: never message them again until they write.
    bot_blocked      INTEGER NOT NULL DEFAULT 0 CHECK (bot_blocked IN (0, 1)),
    updated_at       INTEGER NOT NULL
);

-- Support tickets: personal data, erased with the person and after their own retention.
CREATE TABLE support_tickets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX support_tickets_user_id ON support_tickets (user_id);

-- The messages of a ticket, both ways. relay_* is where the bot posted the person's message
-- in the operator's chat, so the operator's reply to it finds the ticket.
CREATE TABLE support_messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id         INTEGER NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    from_operator     INTEGER NOT NULL CHECK (from_operator IN (0, 1)),
    body              TEXT    NOT NULL,
    relay_chat_id     INTEGER,
    relay_message_id  INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX support_messages_ticket_id ON support_messages (ticket_id);
CREATE INDEX support_messages_relay ON support_messages (relay_chat_id, relay_message_id);

-- Reminders sent: one row per person, subscription end and kind, so none is sent twice.
CREATE TABLE bot_reminders (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ends_at  INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, ends_at, kind)
);
