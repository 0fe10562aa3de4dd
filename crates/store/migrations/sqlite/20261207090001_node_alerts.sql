-- What the admins were last told about each remote node, so an offline or lagging node is
-- reported once per incident, also across a change of leader. Nothing here is personal data.
-- Keep in step with ../postgres.
CREATE TABLE node_alerts (
    node_id          INTEGER   PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    -- 1 from the "offline" message until the "back online" one.
    offline_alerted  INTEGER   NOT NULL DEFAULT 0 CHECK (offline_alerted IN (0, 1)),
    -- The access revision the node was first seen without, and when; NULL when it is not behind.
    behind_revision  INTEGER,
    behind_since     INTEGER,
    -- 1 from the "behind" message until the "caught up" one.
    behind_alerted   INTEGER   NOT NULL DEFAULT 0 CHECK (behind_alerted IN (0, 1)),
    -- Bumped by every change: a change applies only to the state it was computed from.
    version          INTEGER   NOT NULL DEFAULT 0
);
