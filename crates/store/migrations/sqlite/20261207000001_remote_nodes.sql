-- Remote nodes: servers the control plane drives over the network beside the embedded node of
-- `milly serve`. Nothing here is personal data. Keep in step with ../postgres.
-- kind: 'embedded' (configured in milly.toml, fed in-process) or 'remote' (enrolled by join).
ALTER TABLE nodes ADD COLUMN kind TEXT NOT NULL DEFAULT 'embedded';
ALTER TABLE nodes ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
-- The operator's order in subscriptions and links.
ALTER TABLE nodes ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
-- An entry node carries its users to this exit node (entry → exit chain).
ALTER TABLE nodes ADD COLUMN via_node_id INTEGER;
-- SHA-256 (hex) of the TLS client certificate the node made when it joined: its credential.
ALTER TABLE nodes ADD COLUMN credential_sha256 TEXT;
-- What the control plane pushes to the node and never shows clients (REALITY private key,
-- dest, short ids; or a TLS certificate and key), as JSON. Secret: backups are encrypted.
ALTER TABLE nodes ADD COLUMN private_settings TEXT;
CREATE UNIQUE INDEX nodes_credential ON nodes (credential_sha256);

-- One-time join strings: only a hash of the token is kept, so the table cannot enrol anyone.
CREATE TABLE node_join_tokens (
    token_sha256  TEXT    PRIMARY KEY,
    node_id       INTEGER  NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    expires_at    INTEGER  NOT NULL,
    used_at       INTEGER
);

-- What each remote node last reported: aggregate counters only, never per user.
CREATE TABLE node_status (
    node_id           INTEGER  PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    software_version  TEXT    NOT NULL,
    applied_revision  INTEGER  NOT NULL,
    connections       INTEGER  NOT NULL,
    bytes_up          INTEGER  NOT NULL,
    bytes_down        INTEGER  NOT NULL,
    last_seen_at      INTEGER  NOT NULL
);

-- The control plane's identity towards nodes, shared by every `milly serve` on this database:
-- the TLS certificate nodes pin, its key, and the epoch of the access revisions (a new epoch
-- after a restore makes every node take a fresh snapshot).
CREATE TABLE control_plane (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    certificate_pem  TEXT     NOT NULL,
    private_key_pem  TEXT     NOT NULL,
    feed_epoch       TEXT     NOT NULL
);
