-- Blind indexes of the directory (vault.blind_index): per person, the keyed digest of each
-- profile value a person can be found by (email, user_name, employee_number, external_id),
-- trimmed and case-folded, as '<master key id>:<hex>'. Written by the directory service in
-- the transaction that appends the person's events, so they never lag behind the streams;
-- forgetting deletes the person's rows. Single sign-on finds people through them.
CREATE TABLE lookup_digests (
    person_id text NOT NULL REFERENCES people (person_id),
    field text NOT NULL,
    digest text NOT NULL,
    PRIMARY KEY (person_id, field)
);
CREATE INDEX lookup_digests_digest_idx ON lookup_digests (field, digest);

-- The stream version the person's digests were computed at; 0: not yet (people recorded
-- before this migration, indexed by PeopleDirectory.index_people).
ALTER TABLE people ADD COLUMN indexed_version integer NOT NULL DEFAULT 0;
CREATE INDEX people_unindexed_idx ON people (person_id) WHERE indexed_version = 0;
