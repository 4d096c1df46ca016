-- The store's own appends take the appending lock within their statement
-- (eventstore/postgres.py), and its sessions say so: the pool sets
-- mentorflow.appends_take_lock = on. For those sessions the trigger of 0002 is skipped, which
-- saves a PL/pgSQL call per append (with 8 concurrent writers it cost about 15 % of the
-- append rate; the lock itself, taken in the statement, costs next to nothing). Every other
-- session, whatever writes through it, still gets the trigger.
DROP TRIGGER events_announce_appending ON events;

CREATE TRIGGER events_announce_appending
    BEFORE INSERT ON events
    FOR EACH STATEMENT
    WHEN (current_setting('mentorflow.appends_take_lock', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION announce_appending();
