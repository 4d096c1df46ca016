-- people: one row per person the directory recorded (person-{id} streams). Names, user
-- names and emails are the events' sealed values (the API opens them); forgetting turns them
-- into [erased] (projections.forgetting), like every other read model's personal values.
CREATE TABLE people (
    stream_id text PRIMARY KEY,
    person_id text NOT NULL,
    active boolean NOT NULL,
    removed boolean NOT NULL,
    forgotten boolean NOT NULL,
    user_name text NOT NULL,
    name text NOT NULL,
    given_name text NOT NULL,
    family_name text NOT NULL,
    email text NOT NULL,
    email_type text NOT NULL,
    external_id text NOT NULL,
    employee_number text NOT NULL,
    department text NOT NULL,
    manager_id text,
    timezone text NOT NULL,
    languages text[] NOT NULL,
    skills text[] NOT NULL,
    skill_levels integer[] NOT NULL,
    wants_to_develop text[] NOT NULL,
    career_objectives text[] NOT NULL,
    deactivated_at timestamptz,
    deactivation_reason text,
    created_at timestamptz,
    updated_at timestamptz
);
CREATE UNIQUE INDEX people_person_idx ON people (person_id);
CREATE INDEX people_manager_idx ON people (manager_id);
CREATE INDEX people_external_idx ON people (external_id);
