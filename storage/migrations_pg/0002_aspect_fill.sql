-- How a non-original aspect is reached: 'crop' (centre crop) or 'blur' (pad with a blurred copy).
ALTER TABLE jobs ADD COLUMN fill text NOT NULL DEFAULT 'crop';
