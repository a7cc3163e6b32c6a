-- Optimistic concurrency: every write compares and bumps the row's version, so a writer holding
-- a stale copy (a background download, a delivery pass) is refused instead of silently undoing
-- another writer's change; it re-reads and re-applies its change, or gives up.
ALTER TABLE jobs ADD COLUMN version integer NOT NULL DEFAULT 0;
