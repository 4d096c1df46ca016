-- Two-way feedback given through its own route (FeedbackGiven): one row per conversation and
-- giver side, with the ratings; the comment stays sealed with its author's key.
CREATE TABLE development_feedback_given (
    stream_id text NOT NULL,
    conversation_number integer NOT NULL,
    direction text NOT NULL,
    author_id text NOT NULL,
    usefulness integer,
    listening integer,
    clarity integer,
    preparation integer,
    follow_through integer,
    comment text NOT NULL,
    given_at timestamptz NOT NULL,
    PRIMARY KEY (stream_id, conversation_number, direction)
);
