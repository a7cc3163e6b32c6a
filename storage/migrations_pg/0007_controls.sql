-- Issue 10: community controls.
-- The ledger is the job rows themselves (storage/_ledger.py): a requester's video-seconds per
-- day, and a server's money per month, are sums over the jobs created since a time.
CREATE INDEX jobs_user_created ON jobs(platform, user_id, created_at);
CREATE INDEX jobs_guild_created ON jobs(platform, guild_id, created_at);

-- Server settings, per platform and guild (Discord) or team (Slack). scope '' is the server
-- itself; a role id is that role's override of a user limit. value is JSON (a number, a bool,
-- a string or a list of strings), checked by core.domain.settings when read and written.
CREATE TABLE server_settings (
    platform   text        NOT NULL,
    guild_id   text        NOT NULL,
    scope      text        NOT NULL,
    name       text        NOT NULL,
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text,
    PRIMARY KEY (platform, guild_id, scope, name)
);
