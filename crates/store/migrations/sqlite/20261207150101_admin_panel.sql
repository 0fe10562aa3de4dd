-- The admin web panel: one-time login links the bot gives an admin, the sessions they open,
-- and the audit list of what admins did. Tokens are kept only as hashes; login links and
-- sessions are deleted by the retention job once expired, audit entries after a year.
-- An audit entry names its target by internal number only. Keep in step with ../postgres.
CREATE TABLE admin_login_tokens (
    token_hash   TEXT    PRIMARY KEY,
    telegram_id  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    -- Set by the one conditional update that claims the link.
    used_at      INTEGER
);
CREATE INDEX admin_login_tokens_expires_at ON admin_login_tokens (expires_at);

CREATE TABLE admin_sessions (
    token_hash    TEXT    PRIMARY KEY,
    telegram_id   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);

CREATE TABLE admin_audit (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                 INTEGER NOT NULL,
    admin_telegram_id  INTEGER NOT NULL,
    action             TEXT    NOT NULL,
    -- 'user', 'payment', 'node' or 'broadcast'; NULL with target_id for sign-in and sign-out.
    target_kind        TEXT,
    target_id          INTEGER
);
CREATE INDEX admin_audit_at ON admin_audit (at);
