-- +goose Up

-- The public verification of a reference code (GET /verify?ref=CODE) finds the recipient whose
-- notice carried it by ref_key: a keyed hash of the code (notice.ReferenceKeys, 64 bits under a
-- key derived from BREACHNOTICE_SECRET), never the code itself. An import writes it in the same
-- COPY as the rest of the row, so sending a notice writes nothing more; the index is built with
-- the partition's others, after the COPY. A purge keeps it (it is no personal data), so a
-- purged campaign's codes still verify.
--
-- Expand-only: the column is nullable and an older binary's imports leave it NULL (their
-- recipients are then not verifiable, as were all before this release); the index is partial,
-- so those rows cost it nothing. The lookup is across campaigns: the code does not say which.
ALTER TABLE recipients ADD COLUMN ref_key bigint;
CREATE INDEX recipients_ref_key ON recipients (ref_key) WHERE ref_key IS NOT NULL;

-- +goose Down
DROP INDEX recipients_ref_key;
ALTER TABLE recipients DROP COLUMN ref_key;
