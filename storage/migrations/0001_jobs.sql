-- Jobs: one row per /animate request, written before any external call.
-- Times are epoch seconds (REAL, UTC); the store converts them to aware datetimes.
CREATE TABLE jobs (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    status               TEXT    NOT NULL,
    region               TEXT    NOT NULL,
    -- request parameters (core.jobs.JobSpec)
    model                TEXT    NOT NULL,
    prompt               TEXT,
    resolution           TEXT    NOT NULL,
    duration             INTEGER NOT NULL,
    negative_prompt      TEXT,
    seed                 INTEGER,
    prompt_extend        INTEGER NOT NULL,
    watermark            INTEGER NOT NULL,
    sound                INTEGER NOT NULL,
    template             TEXT,
    aspect               TEXT    NOT NULL,
    -- requester and chat location (core.jobs.ChatRef), platform-neutral string ids
    platform             TEXT    NOT NULL,
    user_id              TEXT    NOT NULL,
    channel_id           TEXT    NOT NULL,
    guild_id             TEXT,
    thread_id            TEXT,
    status_message_id    TEXT,
    locale               TEXT    NOT NULL,
    -- local input media
    image_path           TEXT,
    image_mime           TEXT,
    audio_path           TEXT,
    audio_mime           TEXT,
    audio_filename       TEXT,
    -- DashScope task
    task_id              TEXT UNIQUE,
    created_at           REAL    NOT NULL,
    updated_at           REAL    NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_at              REAL,
    submit_started_at    REAL,
    submit_ended_at      REAL,
    finished_at          REAL,
    expected_seconds     REAL,
    -- outcome
    error_code           TEXT,
    error_message        TEXT,
    error_subject        TEXT,
    video_path           TEXT,
    video_url            TEXT,
    video_url_expires_at REAL,
    usage_seconds        REAL,
    cost                 REAL,
    cost_estimate        REAL    NOT NULL DEFAULT 0,
    currency             TEXT    NOT NULL,
    orig_prompt          TEXT,
    actual_prompt        TEXT,
    seed_used            INTEGER,
    -- delivery (exactly-once: intent before posting, message id after)
    deliver_at           REAL,
    delivery_intent      TEXT,
    delivery_attempts    INTEGER NOT NULL DEFAULT 0,
    posted_message_id    TEXT,
    progress_status      TEXT,
    progress_at          REAL,
    delivered_at         REAL,
    media_purged         INTEGER NOT NULL DEFAULT 0,
    parent_job_id        INTEGER REFERENCES jobs(id)
);

-- the engine's due-work query: WHERE status IN (…) AND next_at <= ? ORDER BY next_at
CREATE INDEX jobs_due ON jobs(status, next_at) WHERE next_at IS NOT NULL;
-- the delivery loop's query: WHERE deliver_at <= ? ORDER BY deliver_at
CREATE INDEX jobs_deliver_at ON jobs(deliver_at) WHERE deliver_at IS NOT NULL;
-- admission, in-flight counts and recovery look jobs up by state
CREATE INDEX jobs_status ON jobs(status, model);
-- fairness: who was served recently
CREATE INDEX jobs_submitted ON jobs(submit_started_at) WHERE submit_started_at IS NOT NULL;
-- /jobs: a user's recent jobs
CREATE INDEX jobs_user ON jobs(platform, user_id, id);
-- retention: delivered jobs whose media is still on disk
CREATE INDEX jobs_retention ON jobs(delivered_at) WHERE media_purged = 0 AND delivered_at IS NOT NULL;

-- Learned generation time per (model, resolution, duration): EWMA of log-seconds.
CREATE TABLE duration_stats (
    model      TEXT    NOT NULL,
    resolution TEXT    NOT NULL,
    duration   INTEGER NOT NULL,
    samples    INTEGER NOT NULL,
    log_mean   REAL    NOT NULL,
    log_var    REAL    NOT NULL,
    updated_at REAL    NOT NULL,
    PRIMARY KEY (model, resolution, duration)
);
