-- Referrals and gifts (issue #18). Keep in step with ../postgres.

-- Each person's referral code: random, unguessable, made the first time they ask for their
-- link. Erased with them.
CREATE TABLE referral_codes (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

-- Who joined through whose link, and the reward as offered when they joined. One row per
-- newcomer; erasure of either side deletes it. rewarded_at is set by the one conditional
-- update, in the transaction that credits the newcomer's first payment.
CREATE TABLE referrals (
    newcomer_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    referrer_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at     INTEGER NOT NULL,
    reward_days   INTEGER NOT NULL,
    welcome_days  INTEGER NOT NULL,
    rewarded_at   INTEGER,
    CHECK (newcomer_id <> referrer_id)
);
CREATE INDEX referrals_referrer_id ON referrals (referrer_id);

-- Telegram ids that already joined through a referral link, as an opaque keyed hash computed
-- by the caller (like trial_claims, under another domain): a person who is erased and comes
-- back is never a newcomer again, and no id is kept.
CREATE TABLE referral_claims (
    claim_key   TEXT    PRIMARY KEY,
    claimed_at  INTEGER NOT NULL
);

-- Gifts: a payment bought as a gift (the buyer is the payment's user_id) and its code. The
-- code is cleared when redeemed (once, by one conditional update) or when it expires.
CREATE TABLE gifts (
    payment_id   INTEGER PRIMARY KEY REFERENCES payments (id) ON DELETE CASCADE,
    code         TEXT    UNIQUE,
    redeemed_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    redeemed_at  INTEGER
);
CREATE INDEX gifts_redeemed_by ON gifts (redeemed_by);
