-- Single sign-on of the web console (mentorflow.console.oidc_logins): a sign-in begun at the
-- OpenID Connect provider and not yet finished. The row is taken (deleted) by the callback
-- whose state it holds, so a state works once; only the SHA-256 of the state is stored.
CREATE TABLE console_oidc_logins (
    state_sha256 text PRIMARY KEY CHECK (state_sha256 ~ '^[0-9a-f]{64}$'),
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    time_zone text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX console_oidc_logins_by_expiry ON console_oidc_logins (expires_at);
