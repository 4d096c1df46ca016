-- Event-writing transactions announce themselves to tailing readers (eventstore/postgres.py,
-- "Safe tailing"): they hold the shared advisory lock 0x6D666C6F77657673 ("mflowevs", the
-- store's APPENDING_LOCK) from before they are assigned a transaction id until they end, and
-- readers only hold back for the transactions holding it.
--
-- The store's appends take the lock themselves. This trigger enforces the same for every
-- other INSERT into the table: writers of an older version during a rolling deployment, a
-- script, a person. A BEFORE ... FOR EACH STATEMENT trigger fires before the statement forms
-- its first row, hence before that row gets the transaction its id, so it can take the lock
-- in time; a transaction that already has an id without holding the lock is refused, since
-- a reader may already have passed that id.
CREATE FUNCTION announce_appending() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL AND NOT EXISTS (
        SELECT FROM pg_locks
        WHERE pid = pg_backend_pid() AND granted AND locktype = 'advisory'
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = 1835428975 AND objid = 2003138163 AND objsubid = 1
    ) THEN
        RAISE EXCEPTION 'events must be the first writes of their transaction'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'append before writing anything else in the transaction, '
                         'or take pg_advisory_xact_lock_shared(7883107423758939763) first';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(7883107423758939763);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_announce_appending
    BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION announce_appending();
