-- The event store: one append-only table for all streams.
--
-- transaction_id records the writing transaction (xid8, assigned on first write). Tailing
-- readers order by (transaction_id, global_position) and only read rows whose transaction
-- id is below the oldest transaction still running; see eventstore/postgres.py.
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id uuid NOT NULL,
    stream_id text NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version >= 1),
    event_type text NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version >= 1),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    correlation_id text NOT NULL,
    causation_id text,
    data jsonb NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_tailing_idx ON events (transaction_id, global_position);
