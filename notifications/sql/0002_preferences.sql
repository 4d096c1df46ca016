-- A person's own notification choices, one row per person (participant or HR contact id).
-- NULL means "the program's default" (the cohort spec's notifications block); quiet hours
-- are either a window (start and end, different), "off" (none, whatever the default), or
-- NULL. Forgetting a person deletes their row (mentorflow.people.forget_person).
CREATE TABLE preferences (
    person_id text PRIMARY KEY,
    channel text CHECK (channel IN ('email', 'none')),
    quiet_hours_start time,
    quiet_hours_end time,
    quiet_hours_off boolean NOT NULL DEFAULT false,
    digest text CHECK (digest IN ('daily', 'weekly', 'off')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT preferences_quiet_hours CHECK (
        (quiet_hours_start IS NULL AND quiet_hours_end IS NULL)
        OR (
            quiet_hours_start IS NOT NULL AND quiet_hours_end IS NOT NULL
            AND quiet_hours_start <> quiet_hours_end AND NOT quiet_hours_off
        )
    )
);

-- Forgetting deletes a person's outbox rows.
CREATE INDEX outbox_recipient ON outbox (recipient);
