-- +goose Up

-- A notice sent is recorded on its delivery alone (issue 11: at most 0.8 KB of WAL and two
-- rows inserted per notice). Since 00016 a notice sent at its first try cost its delivery
-- (inserted queued, claimed, recorded) and one event, the sent one: 125 bytes of heap and ~100
-- of index WAL per notice, a fifth of the notice's WAL and half of its rows, to repeat what its
-- delivery says — sent, when, the attempt, the provider's ID (00019 already left that to the
-- delivery) — but for one thing the record overwrote: when the attempt began (the claim's
-- time, the row's updated_at while sending).
--
-- Now the record can keep that time on the row, in claimed_at, and the delivery hold its sent
-- entry instead of an event (once sent_record says so, below):
--
--   * a delivery holds its sent entry when it is sent and has a claimed_at: its updated_at is
--     when it was sent, claimed_at when that attempt began, attempts the attempt;
--   * the record of a notice sent from its claim sets claimed_at (postgres.Record); any other
--     move into sent (a late record after a release, the previous release's workers) leaves it
--     NULL or unchanged and gets its sent event as before;
--   * a delivery that moves on from a held sent entry (a provider reports it delivered or
--     bounced) has that entry written as an event first, so that nothing said is ever lost,
--     and its later history is events as before.
--
-- The readers put the held entry back: the timeline (postgres.timeline, the recipient record
-- and the proof of notice), the proof of a reference code (sentReferenceSQL). A sent event
-- never said more than that, and everything else stays an event: failures, retries, releases,
-- reports, letters.
--
-- The console's chart counted sent, failed and bounced events by minute. It now reads
-- delivery_minutes, counters by minute, channel and outcome that the same triggers add to (one
-- row per statement and shard, as delivery_rates), filled from the events written so far (00026).
--
-- The previous release reads sent notices from events only: its code verification would tell a
-- customer that a genuine notice held on its delivery is not genuine, its exports and timelines
-- would miss the sent. So sent entries are held only once no process of it runs: sent_record
-- says whether they are, and is set by `breachnotice migrate` on a database it creates (no
-- previous release ever ran there) or by `breachnotice migrate --finish-upgrade` once serve and
-- the workers are rolled (README, Upgrading). Until then the record writes sent events as
-- before, and keeps the claim's time in them.
--
-- Expand-only: a nullable column (adding it rewrites nothing), two new tables. Migration 00026
-- fills the chart's counters and replaces the triggers; this one commits first, so that the
-- exclusive lock adding the column takes is held for an instant.
ALTER TABLE deliveries ADD COLUMN claimed_at timestamptz;

CREATE TABLE delivery_minutes (
    campaign_id  uuid NOT NULL,
    minute       timestamptz NOT NULL,
    channel      text NOT NULL,
    -- sent, or failed (failed or bounced): what the chart draws.
    outcome      text NOT NULL CHECK (outcome IN ('sent', 'failed')),
    shard        smallint NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (campaign_id, minute, channel, outcome, shard)
);

-- One row: whether a sent notice is held on its delivery (see above).
CREATE TABLE sent_record (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    held    boolean NOT NULL,
    set_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sent_record (held) VALUES (false);

-- +goose Down
DROP TABLE sent_record;
DROP TABLE delivery_minutes;
LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE;
ALTER TABLE deliveries DROP COLUMN claimed_at;
