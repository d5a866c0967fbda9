-- +goose Up

-- A worker claims a task's notices together (up to 256) and hands them to its senders one by
-- one, over seconds, or minutes under a low EMAIL_RATE. When it died, every notice it had
-- claimed and not recorded was released marked possibly sent — also those it had not started:
-- a review's SIGKILLs marked 632 and 1,432 customers possible duplicates where the relay had 16
-- and 2 second copies, and the proof-of-notice export flagged them all. A worker now writes,
-- before it hands a notice on, how far into its claim it may have started (started_through, a
-- recipient ID, only ever raised); the release marks possibly sent only up to there. NULL (a
-- worker of an earlier release, or nothing started) marks the whole claim, as before.
ALTER TABLE delivery_claims ADD COLUMN started_through bigint;

-- +goose Down
ALTER TABLE delivery_claims DROP COLUMN started_through;
