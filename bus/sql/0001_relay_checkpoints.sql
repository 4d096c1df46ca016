-- Where each relay has got to in the event store's tailing order.
--
-- A relay advances its row only after JetStream acknowledged every event up to the position,
-- so a restarted relay re-publishes at most what was in flight (JetStream drops those
-- duplicates by Nats-Msg-Id). Resetting a row makes the relay re-publish from there.
CREATE TABLE relay_checkpoints (
    relay_name text PRIMARY KEY,
    transaction_id bigint NOT NULL CHECK (transaction_id >= 0),
    global_position bigint NOT NULL CHECK (global_position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
