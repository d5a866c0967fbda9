-- +goose Up

-- An import's warnings: the rows kept with a value neutralised on the way (a name that held
-- markup or control characters, or was absurdly long). warned counts them all; warnings holds
-- the first 100 (breach.MaxListedWarnings) as [{"line", "field", "reason"}], which name a row
-- by its line only, never by its content. A warned row is an accepted or merged row, so the
-- counts' invariant is unchanged.
--
-- sheet is the sheet a spreadsheet list (.xlsx) was read from; encoding and delimiter are then
-- empty.
ALTER TABLE imports
    ADD COLUMN warned bigint NOT NULL DEFAULT 0,
    ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN sheet text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE imports DROP COLUMN sheet, DROP COLUMN warnings, DROP COLUMN warned;
