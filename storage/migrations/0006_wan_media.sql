-- Issue 14: an end image, a video to continue, Wan 3.0's output ratio and the quoted price.
-- The output ratio DashScope makes (Wan 3.0 parameters.ratio; NULL for the other models).
ALTER TABLE jobs ADD COLUMN ratio TEXT;
-- The end image (last_frame / last_frame_url), normalised like the first frame.
ALTER TABLE jobs ADD COLUMN last_frame_path TEXT;
ALTER TABLE jobs ADD COLUMN last_frame_mime TEXT;
-- A clip to continue (wan2.7 first_clip) instead of the image. Like the audio it travels only
-- as a URL: uploaded to DashScope's temporary storage (48 h) by the background upload step.
ALTER TABLE jobs ADD COLUMN clip_path TEXT;
ALTER TABLE jobs ADD COLUMN clip_mime TEXT;
ALTER TABLE jobs ADD COLUMN clip_seconds REAL;
ALTER TABLE jobs ADD COLUMN clip_url TEXT;
ALTER TABLE jobs ADD COLUMN clip_url_expires_at REAL;
-- The price per output second the job was quoted at; NULL when none is known (Wan 3.0).
ALTER TABLE jobs ADD COLUMN unit_price REAL;
-- Every earlier job was quoted at a published price: estimate = unit price x duration.
UPDATE jobs SET unit_price = cost_estimate / duration WHERE duration > 0 AND cost_estimate > 0;
