-- Issue 8 (hardening).
-- The audio upload is its own background step before the create: its oss:// URL lives 48 h
-- (reference §11), so the create is sent with the URL and the expiry says when to upload again.
ALTER TABLE jobs ADD COLUMN audio_url text;
ALTER TABLE jobs ADD COLUMN audio_url_expires_at timestamptz;
-- Fitting the video under the chat's upload limit: the limit a re-encode was started for is
-- written before it starts, so the same file is never re-encoded twice (not even after a crash);
-- fit_path is the copy that fits, NULL when none could be made (the link is posted instead).
ALTER TABLE jobs ADD COLUMN fit_limit bigint;
ALTER TABLE jobs ADD COLUMN fit_path text;
-- A create the task list proved was never made is sent again automatically, once.
ALTER TABLE jobs ADD COLUMN resubmits integer NOT NULL DEFAULT 0;
-- The per-user cap counts a user's unfinished jobs on every submit (under a per-user lock).
CREATE INDEX jobs_user_status ON jobs(platform, user_id, status);
