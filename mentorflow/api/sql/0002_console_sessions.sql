-- Sign-in of the web console (mentorflow.console.sessions).
-- A sign-in link is single use and short-lived; only the SHA-256 of its token is stored.
CREATE TABLE console_sign_in_links (
    link_sha256 text PRIMARY KEY CHECK (link_sha256 ~ '^[0-9a-f]{64}$'),
    role text NOT NULL CHECK (role IN ('hr_admin', 'mentor', 'mentee')),
    person_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CHECK (expires_at > created_at),
    CHECK ((role = 'hr_admin') = (person_id IS NULL))
);

CREATE INDEX console_sign_in_links_by_expiry ON console_sign_in_links (expires_at);

-- A browser session: the SHA-256 of its opaque id (the cookie), who signed in and how, the
-- form token of the session (CSRF: not a credential on its own) and the viewer's time zone.
CREATE TABLE console_sessions (
    session_sha256 text PRIMARY KEY CHECK (session_sha256 ~ '^[0-9a-f]{64}$'),
    role text NOT NULL CHECK (role IN ('hr_admin', 'mentor', 'mentee')),
    person_id text,
    signed_in_by text NOT NULL,
    csrf_token text NOT NULL,
    time_zone text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at > created_at),
    CHECK ((role = 'hr_admin') = (person_id IS NULL))
);

CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
