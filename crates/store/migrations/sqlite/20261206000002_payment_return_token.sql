-- Card payments: the secret of the page YooKassa sends the payer back to (shown instead of the
-- payment's sequential number; removed when the payer is erased), and how much of a payment
-- was given back (refunds made here or in YooKassa's dashboard). Keep in step with ../postgres.
ALTER TABLE payments ADD COLUMN return_token TEXT;
ALTER TABLE payments ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX payments_return_token ON payments (return_token);
-- Refunds recorded before this column existed gave back everything.
UPDATE payments SET refunded_minor = amount_minor WHERE status = 'refunded';
