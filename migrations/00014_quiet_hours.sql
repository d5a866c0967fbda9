-- +goose Up

-- Quiet hours (issue 12): an SMS due in its recipient's night stays queued until not_before,
-- the end of that night. NULL for every other delivery, so the send path writes no more than
-- before (a null costs a bit in the row's null bitmap) and its updates stay HOT (the index
-- below only holds the waiting rows, and not_before only changes for them). The claim refuses
-- a delivery before its not_before and clears it; the reconciler does not queue it again
-- before then. Old binaries ignore the column (they know no quiet hours).
ALTER TABLE deliveries ADD COLUMN not_before timestamptz;

-- The waiting SMS of a campaign, for its status: how many, and the first and last ends.
CREATE INDEX deliveries_waiting ON deliveries (campaign_id, not_before) WHERE not_before IS NOT NULL;

-- +goose Down
DROP INDEX deliveries_waiting;
ALTER TABLE deliveries DROP COLUMN not_before;
