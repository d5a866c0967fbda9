-- +goose Up

-- Where the claims are (issue 11). The reconciler of every worker looked for orphaned claims
-- (ReleaseOrphans: deliveries left sending by a dead worker, or lost by its own) every 10 s
-- with a filter on state, which no index serves — nor can one: an index on state, even a
-- partial one whose predicate names it, makes every state change a non-HOT update on the send
-- path. So each look read the campaign's whole deliveries partition (200,000 rows for a
-- 200,000-recipient campaign, 22 million at the largest, at fillfactor 25), per worker.
--
-- delivery_claims says where to look instead: one row per claim statement — the campaign,
-- channel and worker, the claim's time (the claimed deliveries' updated_at) and the lowest and
-- highest recipient ID it claimed. The deliveries trigger writes it on every move into
-- sending, whoever claims (the previous release's workers too). A reconciler takes the rows of
-- dead workers, and its own worker's rows older than the age at which its claims count as lost,
-- deletes them and releases what is still sending in their ranges, through the deliveries'
-- primary key: a look reads the ranges of the claims that might be orphaned, and nothing when
-- none are. A row is written once and deleted once (by its own worker's reconciler once it is
-- old enough, or another's when the worker died): ~200 bytes of WAL per claim statement of up to
-- a chunk's deliveries, not per notice; the outcomes' records do not touch it.
--
-- The same trigger writes less: its counters are added to by plain updates (an INSERT … ON
-- CONFLICT DO UPDATE wrote a lock record before each, ~35 bytes of WAL per notice sent), and a
-- sent event no longer repeats its provider ID (the message ID, ~50 bytes): its delivery
-- keeps that ID from the sent on (a later report only fills it in when it is empty), and the
-- timeline reads it there (postgres.timeline). Events written before keep their own.
--
-- Expand-only: a new table and the same trigger writing one more thing. The previous release's
-- reconciler keeps scanning as before (and finds the same claims); its workers' claims get
-- their rows from the trigger, deleted by this release's reconcilers. The claims sending when
-- this migration runs get their rows here, while the deliveries take no writes (the lock is
-- held for the one scan of their sending rows, until the migration commits).
CREATE TABLE delivery_claims (
    campaign_id  uuid NOT NULL,
    channel      text NOT NULL,
    worker_id    uuid NOT NULL,
    claimed_at   timestamptz NOT NULL,
    low          bigint NOT NULL,
    high         bigint NOT NULL,
    PRIMARY KEY (campaign_id, channel, worker_id, claimed_at)
);

LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_shard smallint := pg_backend_pid() % 8;
    v_campaigns uuid[];
    v_channels text[];
    v_states text[];
    v_locales text[];
    v_deltas bigint[];
    v_rated uuid[];
    v_seconds timestamptz[];
    v_sent bigint[];
BEGIN
    -- One statement: the moves are computed once and feed the events, the claims, and the
    -- changes of the counts and of the rate.
    WITH moves AS MATERIALIZED (
        SELECT n.campaign_id, n.recipient_id, n.channel, n.state, o.state AS old_state, n.locale,
               o.locale AS old_locale, n.source, n.updated_at, n.provider_id, n.error, n.worker_id,
               CASE WHEN o.state = 'sending' THEN o.attempts ELSE n.attempts END AS attempt,
               CASE WHEN o.state = 'sending' THEN o.updated_at END AS started_at
        FROM new_rows n JOIN old_rows o USING (campaign_id, recipient_id, channel)
        WHERE n.state <> o.state
    ), logged AS (
        -- A sent event leaves its provider ID to its delivery, which keeps it from then on.
        INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error, started_at)
        SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempt,
            CASE WHEN state = 'sent' THEN '' ELSE provider_id END, error, started_at FROM moves
        WHERE NOT (state = 'sending' AND old_state = 'queued')
    ), claimed AS (
        INSERT INTO delivery_claims AS k (campaign_id, channel, worker_id, claimed_at, low, high)
        SELECT campaign_id, channel, worker_id, updated_at, min(recipient_id), max(recipient_id) FROM moves
        WHERE state = 'sending' AND worker_id IS NOT NULL
        GROUP BY campaign_id, channel, worker_id, updated_at
        ON CONFLICT (campaign_id, channel, worker_id, claimed_at)
            DO UPDATE SET low = least(k.low, excluded.low), high = greatest(k.high, excluded.high)
    ), counted AS (
        SELECT campaign_id, channel, state, locale, sum(d) AS d FROM (
            SELECT campaign_id, channel, state, locale, 1 AS d FROM moves
            UNION ALL
            SELECT campaign_id, channel, old_state, old_locale, -1 FROM moves
        ) m
        GROUP BY campaign_id, channel, state, locale HAVING sum(d) <> 0
    ), rated AS (
        SELECT campaign_id, date_trunc('second', updated_at) AS second, count(*) AS sent FROM moves
        WHERE state = 'sent' GROUP BY campaign_id, date_trunc('second', updated_at)
    )
    SELECT c.campaigns, c.channels, c.states, c.locales, c.deltas, r.campaigns, r.seconds, r.sent
    INTO v_campaigns, v_channels, v_states, v_locales, v_deltas, v_rated, v_seconds, v_sent
    FROM (SELECT array_agg(campaign_id ORDER BY campaign_id, channel, state, locale) AS campaigns,
              array_agg(channel ORDER BY campaign_id, channel, state, locale) AS channels,
              array_agg(state ORDER BY campaign_id, channel, state, locale) AS states,
              array_agg(locale ORDER BY campaign_id, channel, state, locale) AS locales,
              array_agg(d ORDER BY campaign_id, channel, state, locale) AS deltas FROM counted) c,
         (SELECT array_agg(campaign_id ORDER BY campaign_id, second) AS campaigns,
              array_agg(second ORDER BY campaign_id, second) AS seconds,
              array_agg(sent ORDER BY campaign_id, second) AS sent FROM rated) r;
    -- Counters are added to by a plain UPDATE, in a fixed order (concurrent statements lock them
    -- in the same order), and inserted only when missing: an INSERT … ON CONFLICT DO UPDATE
    -- writes a lock record before each update, ~35 bytes of WAL per notice sent (cmd/bnbench).
    FOR i IN 1 .. coalesce(array_length(v_campaigns, 1), 0) LOOP
        UPDATE delivery_counts SET n = n + v_deltas[i]
        WHERE campaign_id = v_campaigns[i] AND channel = v_channels[i] AND state = v_states[i] AND locale = v_locales[i]
            AND shard = v_shard;
        IF NOT FOUND THEN
            INSERT INTO delivery_counts AS c (campaign_id, channel, state, locale, shard, n)
            VALUES (v_campaigns[i], v_channels[i], v_states[i], v_locales[i], v_shard, v_deltas[i])
            ON CONFLICT (campaign_id, channel, state, locale, shard) DO UPDATE SET n = c.n + excluded.n;
        END IF;
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(v_seconds, 1), 0) LOOP
        UPDATE delivery_rates SET sent = sent + v_sent[i]
        WHERE campaign_id = v_rated[i] AND second = v_seconds[i] AND shard = v_shard;
        IF NOT FOUND THEN
            INSERT INTO delivery_rates AS r (campaign_id, second, shard, sent)
            VALUES (v_rated[i], v_seconds[i], v_shard, v_sent[i])
            ON CONFLICT (campaign_id, second, shard) DO UPDATE SET sent = r.sent + excluded.sent;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

INSERT INTO delivery_claims (campaign_id, channel, worker_id, claimed_at, low, high)
SELECT campaign_id, channel, worker_id, updated_at, min(recipient_id), max(recipient_id) FROM deliveries
WHERE state = 'sending' AND worker_id IS NOT NULL
GROUP BY campaign_id, channel, worker_id, updated_at;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- One statement: the moves are computed once and feed the events, the rate and the counts.
    WITH moves AS (
        SELECT n.campaign_id, n.recipient_id, n.channel, n.state, o.state AS old_state, n.locale,
               o.locale AS old_locale, n.source, n.updated_at, n.provider_id, n.error,
               CASE WHEN o.state = 'sending' THEN o.attempts ELSE n.attempts END AS attempt,
               CASE WHEN o.state = 'sending' THEN o.updated_at END AS started_at
        FROM new_rows n JOIN old_rows o USING (campaign_id, recipient_id, channel)
        WHERE n.state <> o.state
    ), logged AS (
        INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error, started_at)
        SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempt, provider_id, error, started_at FROM moves
        WHERE NOT (state = 'sending' AND old_state = 'queued')
    ), rated AS (
        INSERT INTO delivery_rates AS r (campaign_id, second, shard, sent)
        SELECT campaign_id, date_trunc('second', updated_at), pg_backend_pid() % 8, count(*) FROM moves
        WHERE state = 'sent'
        GROUP BY campaign_id, date_trunc('second', updated_at) ORDER BY campaign_id, date_trunc('second', updated_at)
        ON CONFLICT (campaign_id, second, shard) DO UPDATE SET sent = r.sent + excluded.sent
    )
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, locale, shard, n)
    SELECT campaign_id, channel, state, locale, pg_backend_pid() % 8, sum(d) FROM (
        SELECT campaign_id, channel, state, locale, 1 AS d FROM moves
        UNION ALL
        SELECT campaign_id, channel, old_state, old_locale, -1 FROM moves
    ) m
    GROUP BY campaign_id, channel, state, locale ORDER BY campaign_id, channel, state, locale
    ON CONFLICT (campaign_id, channel, state, locale, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TABLE delivery_claims;
