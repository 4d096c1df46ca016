-- Every operator action on a dead letter: who retried or discarded which, when and why.
-- Written in the same transaction as the change it records; never updated or deleted.
CREATE TABLE dead_letter_actions (
    action_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('notification', 'command')),
    dead_letter_id text NOT NULL,
    action text NOT NULL CHECK (action IN ('retry', 'discard')),
    actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    acted_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dead_letter_actions_of ON dead_letter_actions (kind, dead_letter_id, action_id);
