-- Promo codes (`milly promo add`): the operator's offers, not personal data. code is kept
-- upper-case (people type it in any case). kind is 'days' (free days at once) or 'percent' (a
-- discount on the next Stars invoice or card checkout); amount is the days or the percent.
-- plan limits it to one plan; max_uses counts every person's use together; valid_until is the
-- last instant it works. uses is the count of redemptions, kept even after a redeemer is erased.
-- Keep in step with ../postgres.
CREATE TABLE promo_codes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('days', 'percent')),
    amount       INTEGER NOT NULL,
    plan         TEXT,
    max_uses     INTEGER,
    valid_until  INTEGER,
    disabled     INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    uses         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);

-- Who used which code when (personal data): one row per person and code, written in the
-- transaction that credits the free days or the discounted payment, so a code counts once per
-- person however often it is entered, paid or replayed. Deleted with the person.
CREATE TABLE promo_redemptions (
    promo_code_id  INTEGER NOT NULL REFERENCES promo_codes (id),
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    payment_id     INTEGER REFERENCES payments (id) ON DELETE SET NULL,
    redeemed_at    INTEGER NOT NULL,
    PRIMARY KEY (promo_code_id, user_id)
);
CREATE INDEX promo_redemptions_user_id ON promo_redemptions (user_id);

-- The discount code a payment was offered with (its price is already the discounted one).
ALTER TABLE payments ADD COLUMN promo_code_id INTEGER REFERENCES promo_codes (id);
