-- +goose Up

-- A running import refreshes alive_at while its process lives (postgres.DB.keepAlive, every 15
-- seconds). An import whose process was killed, or whose machine stopped, left its row
-- "running" for ever — the console showed it under way, and the operator waited for it; one
-- not refreshed for two minutes now reads as failed (its transaction died with its process:
-- nothing of it was stored). NULL for imports of earlier releases, read as before.
ALTER TABLE imports ADD COLUMN alive_at timestamptz;

-- +goose Down
ALTER TABLE imports DROP COLUMN alive_at;
