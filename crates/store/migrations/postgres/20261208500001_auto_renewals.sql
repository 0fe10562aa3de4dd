-- Card auto-renewal, opt-in only. `payments.saves_method` records that the payer ticked
-- "renew automatically" at checkout (so YooKassa was asked to save the payment method).
-- `auto_renewals` holds one row per person while auto-renewal is on: YooKassa's id of the
-- saved payment method (never card data), and the attempts to charge it for the period that
-- ends at `period_end`. The row is deleted when the person switches auto-renewal off, when it
-- stops after failed charges, and with the person. Keep in step with ../sqlite.
ALTER TABLE payments ADD COLUMN saves_method SMALLINT NOT NULL DEFAULT 0 CHECK (saves_method IN (0, 1));
CREATE TABLE auto_renewals (
    user_id            BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan               TEXT    NOT NULL,
    payment_method_id  TEXT    NOT NULL,
    enabled_at         BIGINT  NOT NULL,
    period_end         BIGINT,
    attempts           BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at    BIGINT,
    payment_id         BIGINT
);
