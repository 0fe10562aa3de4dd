-- Telegram Stars subscriptions (a 30-day subscription invoice link): the charge id of the
-- person's latest recurring payment, which our "cancel" button hands to Telegram's
-- editUserStarSubscription, and until when Telegram says it is paid. One row per person; deleted
-- when they cancel it with our button and with the person. A person who cancels inside
-- Telegram simply gets no more payments. Keep in step with ../sqlite.
CREATE TABLE stars_subscriptions (
    user_id       BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan          TEXT    NOT NULL,
    charge_id     TEXT    NOT NULL,
    renews_until  BIGINT  NOT NULL
);
