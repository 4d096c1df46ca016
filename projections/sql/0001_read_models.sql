-- Read models of the projections (schema read_models).
--
-- Every row belongs to exactly one event stream: its key starts with stream_id and only the
-- projection handling that stream writes it. Two streams therefore never write the same row,
-- so projections apply events of different streams concurrently without lock contention or
-- deadlocks; cross-stream figures (a cohort's dashboard, a mentor's load) are aggregated when
-- read (projections/queries.py).
--
-- Tables are created by these migrations only, in read_models and, for a rebuild, in a
-- staging schema whose tables are then moved here: index and constraint names stay the same.

-- Per projection and stream: the last applied stream version (versions are applied in order,
-- without gaps), events skipped as unknown, the global position of the last applied event and
-- the projection's state of the stream, from which its rows are derived.
CREATE TABLE checkpoints (
    projection text NOT NULL,
    stream_id text NOT NULL,
    version integer NOT NULL CHECK (version >= 0),
    skipped integer NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    last_position bigint NOT NULL DEFAULT 0,
    state jsonb,
    PRIMARY KEY (projection, stream_id)
);

-- mentorship_overview --------------------------------------------------------------------
CREATE TABLE mentorship_overview (
    stream_id text PRIMARY KEY,
    cohort_id text NOT NULL,
    mentor_id text NOT NULL,
    mentee_id text NOT NULL,
    stage text NOT NULL,
    match_score double precision,
    rematch_of text,
    matched_at timestamptz,
    conversations_held integer NOT NULL,
    conversations_missed integer NOT NULL,
    conversations_expected integer NOT NULL,
    consecutive_misses integer NOT NULL,
    last_conversation_at timestamptz,
    next_conversation_due timestamptz,
    action_items_open integer NOT NULL,
    action_items_overdue integer NOT NULL,
    action_items_completed integer NOT NULL,
    escalations integer NOT NULL,
    closure_reason text,
    updated_at timestamptz NOT NULL
);
CREATE INDEX mentorship_overview_cohort_idx ON mentorship_overview (cohort_id);
CREATE INDEX mentorship_overview_mentor_idx ON mentorship_overview (mentor_id);
CREATE INDEX mentorship_overview_mentee_idx ON mentorship_overview (mentee_id);

-- development_plan -----------------------------------------------------------------------
-- Free text (descriptions, motivation, feedback) is stored; the API decides who may read it.
CREATE TABLE development_plans (
    stream_id text PRIMARY KEY,
    cohort_id text NOT NULL,
    mentee_id text NOT NULL,
    mentor_id text NOT NULL,
    stage text NOT NULL,
    skills_worked_on text[] NOT NULL,
    conversations_held integer NOT NULL,
    goals_active integer NOT NULL,
    goals_achieved integer NOT NULL,
    action_items_open integer NOT NULL,
    action_items_completed integer NOT NULL,
    feedback_received integer NOT NULL,
    feedback_given integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX development_plans_mentee_idx ON development_plans (mentee_id);

CREATE TABLE development_goals (
    stream_id text NOT NULL,
    goal_id text NOT NULL,
    horizon text NOT NULL,
    status text NOT NULL,
    progress integer NOT NULL,
    description text NOT NULL,
    motivation text NOT NULL,
    target_date timestamptz,
    set_at timestamptz NOT NULL,
    closed_at timestamptz,
    PRIMARY KEY (stream_id, goal_id)
);

CREATE TABLE development_challenges (
    stream_id text NOT NULL,
    challenge_id text NOT NULL,
    skill text NOT NULL,
    description text NOT NULL,
    due_at timestamptz NOT NULL,
    progress integer NOT NULL,
    set_at timestamptz NOT NULL,
    PRIMARY KEY (stream_id, challenge_id)
);

CREATE TABLE development_action_items (
    stream_id text NOT NULL,
    item_id text NOT NULL,
    owner text NOT NULL,
    description text NOT NULL,
    conversation_number integer NOT NULL,
    due_at timestamptz NOT NULL,
    status text NOT NULL,
    overdue boolean NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (stream_id, item_id)
);

-- direction: to_mentee (feedback the mentee received) or to_mentor (feedback the mentee gave).
CREATE TABLE development_feedback (
    stream_id text NOT NULL,
    conversation_number integer NOT NULL,
    direction text NOT NULL,
    feedback text NOT NULL,
    given_at timestamptz NOT NULL,
    PRIMARY KEY (stream_id, conversation_number, direction)
);

-- cohort_dashboard -----------------------------------------------------------------------
CREATE TABLE dashboard_cohorts (
    stream_id text PRIMARY KEY,
    cohort_id text NOT NULL,
    program_name text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    participant_count integer NOT NULL,
    unmatched_mentees integer NOT NULL,
    launched_at timestamptz NOT NULL,
    closed_at timestamptz
);
CREATE INDEX dashboard_cohorts_cohort_idx ON dashboard_cohorts (cohort_id);

CREATE TABLE dashboard_pairs (
    stream_id text PRIMARY KEY,
    cohort_id text NOT NULL,
    stage text NOT NULL,
    onboarding_completed boolean NOT NULL,
    onboarding_overdue boolean NOT NULL,
    conversations_held integer NOT NULL,
    conversations_due integer NOT NULL,
    conversations_on_time integer NOT NULL,
    conversations_missed integer NOT NULL,
    consecutive_misses integer NOT NULL,
    action_items_created integer NOT NULL,
    action_items_completed integer NOT NULL,
    action_items_overdue integer NOT NULL,
    escalations integer NOT NULL,
    surveys_received integer NOT NULL,
    satisfaction_total integer NOT NULL,
    rematch_requested boolean NOT NULL,
    is_rematch boolean NOT NULL,
    at_risk boolean NOT NULL
);
CREATE INDEX dashboard_pairs_cohort_idx ON dashboard_pairs (cohort_id);

-- mentor_load ----------------------------------------------------------------------------
CREATE TABLE mentor_load_pairs (
    stream_id text PRIMARY KEY,
    cohort_id text NOT NULL,
    mentor_id text NOT NULL,
    mentee_id text NOT NULL,
    stage text NOT NULL,
    active boolean NOT NULL
);
CREATE INDEX mentor_load_pairs_mentor_idx ON mentor_load_pairs (mentor_id, cohort_id);
CREATE INDEX mentor_load_pairs_cohort_idx ON mentor_load_pairs (cohort_id);

-- review_summaries -----------------------------------------------------------------------
CREATE TABLE review_summaries (
    stream_id text NOT NULL,
    cycle_id text NOT NULL,
    cohort_id text NOT NULL,
    mentee_id text NOT NULL,
    mentor_id text NOT NULL,
    status text NOT NULL,
    drafted_at timestamptz NOT NULL,
    respond_by timestamptz NOT NULL,
    decided_at timestamptz,
    edited_by_mentee boolean NOT NULL,
    goals text[] NOT NULL,
    skills_developed text[] NOT NULL,
    action_items_completed integer NOT NULL,
    action_items_overdue integer NOT NULL,
    conversations_held integer NOT NULL,
    conversations_expected integer NOT NULL,
    feedback_themes text[] NOT NULL,
    summary text NOT NULL,
    PRIMARY KEY (stream_id, cycle_id)
);
CREATE INDEX review_summaries_mentee_idx ON review_summaries (mentee_id);
