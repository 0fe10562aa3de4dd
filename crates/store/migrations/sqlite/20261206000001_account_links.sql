-- Short-lived links the bot gives on request to the person's data page on the website
-- (download, email, deletion), so the subscription URL shared with apps opens nothing else.
-- Only a hash of the token is kept; a row dies with its person, when a newer link is issued,
-- and by the retention job once expired. Keep in step with ../postgres.
CREATE TABLE account_links (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX account_links_user_id ON account_links (user_id);
CREATE INDEX account_links_expires_at ON account_links (expires_at);
