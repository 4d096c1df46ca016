-- What the notifier (notifications.service) adds to the outbox: the parts of a message
-- beyond its text, and the state it keeps of its own.

-- category: which kind of message (a person's preferences and List-Unsubscribe name it);
-- html_body: the HTML alternative; calendar: an iCalendar attachment (text/calendar with
-- its METHOD); headers: extra headers (List-Unsubscribe) decided when recorded.
ALTER TABLE outbox
    ADD COLUMN category text NOT NULL DEFAULT 'general',
    ADD COLUMN html_body text,
    ADD COLUMN calendar text,
    ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'::jsonb;

-- One row per relationship: what the notifier folded from its events (participants, the
-- conversation series and its SEQUENCE), at the stream version it has taken into account.
-- Written in the same transaction as the outbox entries an event records, so a redelivered
-- event is recognised (its version is not above this one) and records nothing twice.
CREATE TABLE pairs (
    stream_id text PRIMARY KEY,
    version integer NOT NULL CHECK (version >= 1),
    state jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Escalations waiting for an HR contact's next digest (daily or weekly, in their zone).
-- digest_id is set when a digest took the item (the digest's outbox event id).
CREATE TABLE digest_items (
    recipient text NOT NULL,
    event_id uuid NOT NULL,
    cohort_id text NOT NULL,
    address text NOT NULL,
    timezone text NOT NULL,
    frequency text NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    line text NOT NULL,
    occurred_at timestamptz NOT NULL,
    digest_id uuid,
    PRIMARY KEY (recipient, event_id)
);

CREATE INDEX digest_items_open ON digest_items (recipient, occurred_at) WHERE digest_id IS NULL;

-- People forgotten on request (PersonForgotten on the bus): never a message again.
CREATE TABLE forgotten (
    person_id text PRIMARY KEY,
    forgotten_at timestamptz NOT NULL
);
