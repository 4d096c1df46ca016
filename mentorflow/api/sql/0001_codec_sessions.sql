-- Browser sessions of the payload codec endpoint (mentorflow.api.codec_sessions).
-- Only the SHA-256 of a session id is stored: the rows do not let anyone sign in. A session
-- names the token it was started with (its SHA-256, as the tokens file stores it), so that
-- removing or revoking the token ends the session, and the one Temporal UI origin it serves.
CREATE TABLE codec_sessions (
    session_sha256 text PRIMARY KEY CHECK (session_sha256 ~ '^[0-9a-f]{64}$'),
    token_sha256 text NOT NULL CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    origin text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at > created_at)
);

CREATE INDEX codec_sessions_by_token ON codec_sessions (token_sha256, created_at);
CREATE INDEX codec_sessions_by_expiry ON codec_sessions (expires_at);
