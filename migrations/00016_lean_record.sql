-- +goose Up

-- A leaner record (issue 11): every notice sent cost PostgreSQL four rows (its delivery and the
-- events queued, sending and sent) and 1.6 KB of WAL. Two of those events say nothing the
-- other rows cannot: the delivery row knows when it was queued, and the claim's time is the
-- delivery's updated_at for as long as it is sending — so the outcome that ends the attempt
-- can carry it. Now:
--
--   * a delivery inserted queued by this release (the planner, a fallback) carries its time in
--     queued_at and gets no event; one inserted in another state (a letter printed, a notice
--     failed by a cancellation) gets its event as before, and so does a queued one without
--     queued_at (the previous release's planner, during an upgrade);
--   * a claim (queued → sending) writes no event, whoever makes it (old workers too);
--   * every move out of sending (sent, failed, a retry queued, released, bounced) writes its
--     event with started_at, the claim's time (the old row's updated_at), and the attempt that
--     ended (the old row's attempts: a release gives the attempt back, its event still names it).
--
-- The readers of the timeline (internal/postgres, timelineSQL) put the queued and sending
-- entries back: queued at queued_at, sending at each event's started_at, and the claim still
-- open at the delivery's updated_at. Nothing is lost: every attempt is still in the timeline
-- with its times, and a sent notice costs two rows (its delivery and its sent event).
--
-- Expand-only: two nullable columns (adding them rewrites nothing), the same triggers and
-- counts. Events written before this migration have a NULL started_at and their own queued and
-- sending rows; deliveries inserted before it a NULL queued_at. A previous-release worker's
-- claims and records keep the counts exact (the counts never depended on the events); only
-- its own timeline reader misses the queued and sending entries of notices claimed meanwhile.
ALTER TABLE deliveries ADD COLUMN queued_at timestamptz;
ALTER TABLE delivery_events ADD COLUMN started_at timestamptz;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
    SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error
    FROM new_rows WHERE state <> 'queued' OR queued_at IS NULL;
    -- Sorted, so that concurrent statements lock the counters in the same order.
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, locale, shard, n)
    SELECT campaign_id, channel, state, locale, pg_backend_pid() % 8, count(*) FROM new_rows
    GROUP BY campaign_id, channel, state, locale ORDER BY campaign_id, channel, state, locale
    ON CONFLICT (campaign_id, channel, state, locale, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

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

-- +goose Down
-- Back to one event per transition. The queued and sending events the lean triggers did not
-- write are written now from what replaced them, so that the older readers' timelines stay
-- whole.
INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt)
SELECT campaign_id, recipient_id, channel, 'queued', CASE WHEN fallback THEN 'worker' ELSE 'planner' END, queued_at, 0
FROM deliveries WHERE queued_at IS NOT NULL;
INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt)
SELECT campaign_id, recipient_id, channel, 'sending', 'worker', started_at, attempt
FROM delivery_events WHERE started_at IS NOT NULL;
INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt)
SELECT campaign_id, recipient_id, channel, 'sending', source, updated_at, attempts FROM deliveries d
WHERE state = 'sending' AND NOT EXISTS (SELECT 1 FROM delivery_events e WHERE e.campaign_id = d.campaign_id
    AND e.recipient_id = d.recipient_id AND e.channel = d.channel AND e.state = 'sending' AND e.at = d.updated_at);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
    SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error
    FROM new_rows;
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, locale, shard, n)
    SELECT campaign_id, channel, state, locale, pg_backend_pid() % 8, count(*) FROM new_rows
    GROUP BY campaign_id, channel, state, locale ORDER BY campaign_id, channel, state, locale
    ON CONFLICT (campaign_id, channel, state, locale, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moves AS (
        SELECT n.campaign_id, n.recipient_id, n.channel, n.state, o.state AS old_state, n.locale,
               o.locale AS old_locale, n.source, n.updated_at, n.attempts, n.provider_id, n.error
        FROM new_rows n JOIN old_rows o USING (campaign_id, recipient_id, channel)
        WHERE n.state <> o.state
    ), logged AS (
        INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
        SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error FROM moves
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

ALTER TABLE delivery_events DROP COLUMN started_at;
ALTER TABLE deliveries DROP COLUMN queued_at;
