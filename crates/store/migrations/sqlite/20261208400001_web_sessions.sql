-- A person's sessions on the website after signing in with Telegram (the Login Widget's signed
-- data, checked with the bot token). Only a hash of the cookie is kept, and a digest of the
-- login's signature, unique so the same signed login opens one session only. Sign-out ends a
-- session by setting expires_at; the retention job deletes rows a day after they ended (the
-- login data is refused as stale by then), and a row dies with its person. Keep in step with
-- ../postgres.
CREATE TABLE web_sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    login_digest  TEXT    NOT NULL UNIQUE,
    created_at    INTEGER  NOT NULL,
    expires_at    INTEGER  NOT NULL
);
CREATE INDEX web_sessions_user_id ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
