-- +goose Up
-- Who approved a campaign and when: approval is of a given list and given notices, and the
-- record of it is part of the proof of notice.
ALTER TABLE campaigns
    ADD COLUMN approved_by text NOT NULL DEFAULT '',
    ADD COLUMN approved_at timestamptz;

-- +goose Down
ALTER TABLE campaigns DROP COLUMN approved_at, DROP COLUMN approved_by;
