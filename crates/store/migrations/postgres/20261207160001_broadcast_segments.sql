-- Broadcast segments and counts. blocked counts the people Telegram said blocked the bot (or
-- deleted their account), apart from failed (any other error). expired_days is the N of the
-- 'expired_within' audience (expired in the last N days, 1..=365) and NULL for the others;
-- 'trial_only' (took the free trial, never paid) needs no column.
-- Keep in step with ../sqlite.
ALTER TABLE broadcasts ADD COLUMN blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN expired_days BIGINT;
