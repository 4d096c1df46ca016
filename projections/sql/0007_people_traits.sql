-- people: the Big Five a person gave with their consent (TraitsAssessed), each 0..1 as a
-- cohort spec's traits; all NULL when they never did, withdrew their consent
-- (TraitsConsentWithdrawn) or were forgotten. The instrument names the questionnaire
-- (Mini-IPIP).
ALTER TABLE people
    ADD COLUMN traits_instrument text,
    ADD COLUMN openness double precision,
    ADD COLUMN conscientiousness double precision,
    ADD COLUMN extraversion double precision,
    ADD COLUMN agreeableness double precision,
    ADD COLUMN emotional_stability double precision,
    ADD COLUMN traits_consented_at timestamptz,
    ADD COLUMN traits_assessed_at timestamptz;
