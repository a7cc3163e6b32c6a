-- Issue 10: community controls.
-- The ledger is the job rows themselves (storage/_ledger.py): a requester's video-seconds per
-- day, and a server's money per month, are sums over the jobs created since a time.
CREATE INDEX jobs_user_created ON jobs(platform, user_id, created_at);
CREATE INDEX jobs_guild_created ON jobs(platform, guild_id, created_at);

-- Server settings, per platform and guild (Discord) or team (Slack). scope '' is the server
-- itself; a role id is that role's override of a user limit. value is JSON (a number, a bool,
-- a string or a list of strings), checked by core.domain.settings when read and written.
CREATE TABLE server_settings (
    platform   TEXT NOT NULL,
    guild_id   TEXT NOT NULL,
    scope      TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (platform, guild_id, scope, name)
);
