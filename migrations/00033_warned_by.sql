-- +goose Up

-- An import lists the warnings of its first warned rows only (100): a list of a hundred
-- thousand landline-only customers hid the three whose phone was valid in two countries.
-- warned_by counts the warned rows by the field each warning is about.
ALTER TABLE imports ADD COLUMN warned_by jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE imports DROP COLUMN warned_by;
