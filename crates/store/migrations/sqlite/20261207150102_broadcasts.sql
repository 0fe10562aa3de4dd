-- Broadcasts an admin started (web panel or the bot's /broadcast), sent by the bot's leader at
-- Telegram's pace. cursor_user_id is the last person a message was sent (or attempted) to: the
-- runner advances it before each message, in ascending user id, so a restart resumes after it
-- and nobody gets a message twice. Finished broadcasts are deleted after a year.
-- Keep in step with ../postgres.
CREATE TABLE broadcasts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at         INTEGER NOT NULL,
    admin_telegram_id  INTEGER NOT NULL,
    -- 'all', 'active', 'expired', 'never_paid' or 'preview' (to the admin only).
    audience           TEXT    NOT NULL,
    body               TEXT    NOT NULL,
    cursor_user_id     INTEGER NOT NULL DEFAULT 0,
    recipients         INTEGER NOT NULL,
    sent               INTEGER NOT NULL DEFAULT 0,
    failed             INTEGER NOT NULL DEFAULT 0,
    finished_at        INTEGER
);
CREATE INDEX broadcasts_finished_at ON broadcasts (finished_at);
