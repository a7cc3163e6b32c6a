-- Issue 13: leases. PostgreSQL twin of storage/migrations/0008_leases.sql, plus what several
-- processes need beyond one: the account's rate windows and pauses as rows, and a notification
-- on every new job so idle workers wake at once.
ALTER TABLE jobs ADD COLUMN lease_owner text;
ALTER TABLE jobs ADD COLUMN lease_until timestamptz;
CREATE INDEX jobs_lease_owner ON jobs(lease_owner) WHERE lease_owner IS NOT NULL;
CREATE TABLE engine_roles (
    role  text        PRIMARY KEY,
    owner text        NOT NULL,
    until timestamptz NOT NULL
);

-- Rolling windows (storage._pglimits): one row per event in the last window of its key
-- ('queries', 'submit:<model>'), taken under the key's advisory lock, old rows pruned then.
CREATE TABLE limiter_events (
    key text        NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX limiter_events_key ON limiter_events(key, at);
-- Counting one event is one round trip: the function takes the key's advisory lock first, and
-- each statement after it (a volatile function's statements each read a fresh snapshot under
-- READ COMMITTED) sees every event counted before the lock was granted. Returns NULL when the
-- event was counted, else the oldest live event (the window frees `window` after it).
CREATE FUNCTION limiter_take(k text, lock_key integer, now timestamptz, since timestamptz,
                             lim integer) RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    first timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key, hashtext(k));
    DELETE FROM limiter_events WHERE key = k AND at <= since;
    SELECT count(*), min(at) INTO n, first FROM limiter_events WHERE key = k;
    IF n < lim THEN
        INSERT INTO limiter_events (key, at) VALUES (k, now);
        RETURN NULL;
    END IF;
    RETURN first;
END
$$;
-- A key DashScope throttled (HTTP 429) is held by every worker until `until`.
CREATE TABLE limiter_pauses (
    key   text        PRIMARY KEY,
    until timestamptz NOT NULL
);

-- New work: every statement that inserts jobs notifies channel animate_jobs once its transaction
-- commits (statement level, empty payload: a burst of inserts is one wakeup per statement, and
-- PostgreSQL folds identical notifications of one transaction into one). Workers LISTEN on a
-- dedicated connection (storage._pgnotify).
CREATE FUNCTION animate_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('animate_jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION animate_jobs_notify();
