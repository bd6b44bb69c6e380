-- Large message bodies are kept in segment files beside the database (the
-- `<database>.blobs` directory): `file` names the segment, relative to that
-- directory, `file_offset` is where the body starts in it (its length is
-- `size`), and `data` is then empty. Rows written before this version keep
-- their bytes in `data`.
ALTER TABLE blobs ADD COLUMN file TEXT;
ALTER TABLE blobs ADD COLUMN file_offset INTEGER;
CREATE INDEX blobs_file ON blobs(file) WHERE file IS NOT NULL;
