-- The HR console's dashboard charts (cohort_dashboard): figures over time and distributions,
-- one set of rows per relationship stream, like dashboard_pairs.

-- The onboarding funnel: how far a pair has got (training by both, both goals, kickoff).
ALTER TABLE dashboard_pairs ADD COLUMN training_completed boolean NOT NULL DEFAULT false;
ALTER TABLE dashboard_pairs ADD COLUMN goals_set boolean NOT NULL DEFAULT false;
ALTER TABLE dashboard_pairs ADD COLUMN kickoff_held boolean NOT NULL DEFAULT false;

-- Every stage a relationship entered and when (pairs by stage over time).
CREATE TABLE dashboard_stage_changes (
    stream_id text NOT NULL,
    change_number integer NOT NULL,
    cohort_id text NOT NULL,
    stage text NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (stream_id, change_number)
);
CREATE INDEX dashboard_stage_changes_cohort_idx ON dashboard_stage_changes (cohort_id);

-- Every conversation that had a due date, and how it went: on_time, late or missed
-- (cadence adherence by week).
CREATE TABLE dashboard_conversations (
    stream_id text NOT NULL,
    conversation_number integer NOT NULL,
    cohort_id text NOT NULL,
    due_at timestamptz NOT NULL,
    outcome text NOT NULL,
    PRIMARY KEY (stream_id, conversation_number)
);
CREATE INDEX dashboard_conversations_cohort_idx ON dashboard_conversations (cohort_id);

-- Closing-survey satisfaction, one row per participant who answered (its distribution).
CREATE TABLE dashboard_surveys (
    stream_id text NOT NULL,
    person_id text NOT NULL,
    cohort_id text NOT NULL,
    satisfaction integer NOT NULL,
    PRIMARY KEY (stream_id, person_id)
);
CREATE INDEX dashboard_surveys_cohort_idx ON dashboard_surveys (cohort_id);
