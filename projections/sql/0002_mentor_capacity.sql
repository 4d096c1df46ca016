-- Mentor capacity per relationship (MentorshipMatched v2); NULL for v1 relationships.
ALTER TABLE mentor_load_pairs ADD COLUMN mentor_capacity integer;
