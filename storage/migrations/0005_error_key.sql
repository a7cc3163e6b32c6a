-- Issue 9: an error keeps its stable key and the values its message names next to the English
-- text (error_message), so a front-end can render it in the user's language later.
ALTER TABLE jobs ADD COLUMN error_key TEXT;
-- a JSON object, e.g. {"model": "wan2.2-i2v-flash"}; NULL when the error named no values
ALTER TABLE jobs ADD COLUMN error_params TEXT;
