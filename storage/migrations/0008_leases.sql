-- Issue 13: leases. A worker advances a job only while it holds the job's lease (an owner, unique
-- per process, and an expiry on the engine's clock), taken by the store's claim_* methods,
-- renewed while it works and released after its tick; a dead worker's leases simply expire.
-- SQLite serves one process (the instance lock), so the account's rate windows stay in memory
-- there; the PostgreSQL twin adds their tables and the new-work notification.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL;
-- renew / release: every lease one owner holds
CREATE INDEX jobs_lease_owner ON jobs(lease_owner) WHERE lease_owner IS NOT NULL;
-- Roles one worker holds at a time (the task-list sweeps and retention), with an expiry.
CREATE TABLE engine_roles (
    role  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);
