-- Issue 13: leases. PostgreSQL twin of storage/migrations/0006_leases.sql, plus what several
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
