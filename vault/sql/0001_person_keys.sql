-- Per-person data keys (wrapped by a master key) and the people who were forgotten.
-- Forgetting deletes the key row: every value sealed with it becomes unreadable, wherever
-- a copy of it lives. The tombstone keeps a new key from being created for the person.
CREATE TABLE person_keys (
    person_id text PRIMARY KEY,
    master_key_id text NOT NULL,
    wrapped_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE forgotten_people (
    person_id text PRIMARY KEY,
    forgotten_at timestamptz NOT NULL,
    requested_by text NOT NULL
);
