-- The people directory's own index (schema directory): every person the directory has
-- recorded, written in the transaction of their first directory event. It lets the directory
-- list its people (SCIM list and filter, CSV imports) straight from the event store, without
-- waiting for a projection: a person is listed from the moment their events commit.
CREATE TABLE people (
    person_id text PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
