-- One row per (event, recipient, channel), written before anything is sent (see
-- notifications/__init__.py for the guarantee). The row holds the rendered message, so that
-- a retry, hours later, sends what was decided when the event arrived.
CREATE TABLE outbox (
    outbox_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL,
    recipient text NOT NULL,
    channel text NOT NULL,
    address text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    -- pending: to send (again) at next_attempt_at; sent; dead: failed for good, waiting for
    -- an operator; discarded: an operator gave it up (the row stays, so a redelivered event
    -- cannot record it anew).
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sent', 'dead', 'discarded')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    CONSTRAINT outbox_key UNIQUE (event_id, recipient, channel)
);

CREATE INDEX outbox_due ON outbox (next_attempt_at, outbox_id) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (updated_at) WHERE state = 'dead';
