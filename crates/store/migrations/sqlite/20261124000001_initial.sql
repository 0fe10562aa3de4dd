-- milly's schema for SQLite: exactly the personal data the privacy policy lists and what running
-- the service needs. Instants are unix seconds (INTEGER), money is integer minor units, flags are
-- INTEGER 0/1 (sqlx's Any driver cannot read SQLite BOOLEAN columns). Nothing about connections
-- or traffic is stored, anywhere. Keep in step with ../postgres.

-- People. AUTOINCREMENT so an erased person's id is never handed to someone else.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_id   INTEGER NOT NULL UNIQUE,
    first_name    TEXT    NOT NULL,
    last_name     TEXT,
    username      TEXT,
    email         TEXT,
    language      TEXT    NOT NULL,
    consent_at    INTEGER,
    blocked       INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);

-- The current continuous period of access of each user.
CREATE TABLE subscriptions (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan          TEXT    NOT NULL,
    activated_at  INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL
);

-- Access credentials. access_revision is the meta access_revision of the last change that
-- affected who this credential lets in (see access.rs).
CREATE TABLE credentials (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    vless_uuid       TEXT    NOT NULL UNIQUE,
    sub_token        TEXT    NOT NULL UNIQUE,
    access_revision  INTEGER NOT NULL
);
CREATE INDEX credentials_access_revision ON credentials (access_revision);

-- Payments: amount, dates, status and the provider's ids. Never card data. When the person is
-- erased the record the law requires stays, unlinked (user_id NULL).
CREATE TABLE payments (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER REFERENCES users (id) ON DELETE SET NULL,
    provider             TEXT    NOT NULL,
    provider_payment_id  TEXT,
    plan                 TEXT    NOT NULL,
    days                 INTEGER NOT NULL,
    amount_minor         INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (provider, provider_payment_id)
);
CREATE INDEX payments_user_id ON payments (user_id);
CREATE INDEX payments_status ON payments (status);

-- VLESS nodes as clients see them; security is domain::NodeSecurity as JSON.
CREATE TABLE nodes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    location     TEXT    NOT NULL,
    public_host  TEXT    NOT NULL,
    port         INTEGER NOT NULL,
    security     TEXT    NOT NULL
);

-- Free trials taken. The key is an opaque keyed hash computed by the caller, so the claim
-- survives the person's erasure without keeping their Telegram id.
CREATE TABLE trial_claims (
    claim_key   TEXT    PRIMARY KEY,
    claimed_at  INTEGER NOT NULL
);

-- VLESS UUIDs that stopped granting access (rotated or erased), so nodes polling for changes
-- learn to drop them. Random credentials, not personal data; pruned anyway.
CREATE TABLE access_tombstones (
    vless_uuid  TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    removed_at  INTEGER NOT NULL
);
CREATE INDEX access_tombstones_revision ON access_tombstones (revision);

-- Counters. access_revision: bumped by every transaction that changes who has access.
-- access_horizon: the highest revision whose tombstones were pruned.
CREATE TABLE meta (
    key    TEXT    PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('access_revision', 0), ('access_horizon', 0);
