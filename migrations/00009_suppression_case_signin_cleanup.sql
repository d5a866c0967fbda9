-- +goose Up

-- Suppressions match addresses case-insensitively: `Maria@Ex.com` opted out must not receive
-- as `maria@ex.com` in a later campaign. The address is kept as given (it is what the owner
-- opted out with, and what the listing shows); only the match lower-cases both sides, with
-- this very expression, so that the claim's check is a lookup in this index. Phone numbers
-- are E.164 (digits and '+'), which lower() leaves as they are, so one expression serves
-- both channels. COLLATE "default" lower-cases letters beyond ASCII (a local part may be
-- written in any script) wherever the database's locale knows them; the column's own "C"
-- collation would lower-case A-Z only. Rows stored before this migration are indexed here
-- and match at once. The index is not unique: earlier case variants may both be on the
-- list, and either suppresses.
CREATE INDEX suppressions_match ON suppressions (channel, lower(address COLLATE "default"));

-- Failed sign-ins older than a day are deleted as new ones arrive (DELETE ... WHERE at < …):
-- without an index on at alone that is a scan of the whole table at every attempt, which a
-- flood of attempts makes long exactly when it matters.
CREATE INDEX signin_failures_at ON signin_failures (at);

-- +goose Down
DROP INDEX signin_failures_at;
DROP INDEX suppressions_match;
