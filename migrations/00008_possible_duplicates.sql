-- +goose Up

-- Possible duplicates. A worker claims a notice (queued → sending), hands it to the relay or
-- the SMS provider, then records sent. If it dies between the two, nobody knows whether the
-- notice left: the reconciler releases the claim and it is sent again. Such a release is now
-- written down, and so is the resend it leads to, so that the duplicates this window allows
-- are counted instead of guessed.
--
-- possibly_sent: how many times the delivery was released from a claim whose worker stopped
-- (killed, crashed, cut off) without recording an outcome: each is a send that may have
-- reached the customer. The release's event (source reconciler) says so in its error.
--
-- possible_duplicates: set when a send of the delivery is recorded: how many of its earlier
-- possible sends may have reached the customer besides the recorded one (0 for nearly all).
-- A campaign's status sums it; the listing and the export show it per delivery.
--
-- Constant defaults: adding the columns rewrites nothing.
ALTER TABLE deliveries
    ADD COLUMN possibly_sent       integer NOT NULL DEFAULT 0,
    ADD COLUMN possible_duplicates integer NOT NULL DEFAULT 0;

-- The status sums possible_duplicates from this index alone: it holds only the few deliveries
-- that were sent again. The send path keeps its HOT updates: a partial index blocks them only
-- for the updates that change possible_duplicates, which are those few.
CREATE INDEX deliveries_possible_duplicates ON deliveries (campaign_id) INCLUDE (possible_duplicates)
    WHERE possible_duplicates > 0;

-- +goose Down
DROP INDEX deliveries_possible_duplicates;
ALTER TABLE deliveries DROP COLUMN possible_duplicates, DROP COLUMN possibly_sent;
