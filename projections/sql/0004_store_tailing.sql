-- Projections tail the event store directly (projections/runner.py).
--
-- positions: where each projection has got to in the store's safe tailing order, written in
-- the same transaction as the rows, states and per-stream checkpoints of the events it
-- covers. A projection that fails on an event stops there: the event and a description of
-- the error (ids and error classes, never personal text) stay here until it passes.
CREATE TABLE positions (
    projection text PRIMARY KEY,
    transaction_id bigint NOT NULL DEFAULT 0 CHECK (transaction_id >= 0),
    global_position bigint NOT NULL DEFAULT 0 CHECK (global_position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    stalled_event_id uuid,
    stalled_error text,
    stalled_since timestamptz,
    stalled_attempts integer NOT NULL DEFAULT 0
);

-- skips: events an operator told a projection to pass over (`mentorflow projections skip`),
-- with who, when and why. The live path and a rebuild both count them as skipped events,
-- so a rebuild still equals the live read model.
CREATE TABLE skips (
    projection text NOT NULL,
    event_id uuid NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    skipped_by text NOT NULL,
    skipped_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_id)
);
