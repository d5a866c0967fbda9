-- +goose Up

-- The triggers of a notice held on its delivery, and the chart's counters (migration 00025 says
-- why). Writers of deliveries wait while the counters are filled from the events and the
-- triggers replaced (SHARE ROW EXCLUSIVE: reads go on), so that no move is counted twice or
-- missed; the workers then go on with the new triggers.
LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;

-- What the chart counted: the engine's sends and failures on email and SMS. A cancellation
-- fails every notice not sent yet at once, by the operator: that is not sending. (Emptied
-- first: after a Down, the counters left would be counted again.) The writers wait for this
-- count — seconds per ten million events.
DELETE FROM delivery_minutes;
INSERT INTO delivery_minutes (campaign_id, minute, channel, outcome, shard, n)
SELECT campaign_id, date_trunc('minute', at), channel, CASE state WHEN 'sent' THEN 'sent' ELSE 'failed' END, 0, count(*)
FROM delivery_events
WHERE state IN ('sent', 'failed', 'bounced') AND channel IN ('email', 'sms') AND source <> 'operator'
GROUP BY 1, 2, 3, 4;

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
    -- Inserted settled: a failure the planner found (no address it can use).
    INSERT INTO delivery_minutes AS m (campaign_id, minute, channel, outcome, shard, n)
    SELECT campaign_id, date_trunc('minute', updated_at), channel, CASE state WHEN 'sent' THEN 'sent' ELSE 'failed' END,
        pg_backend_pid() % 8, count(*) FROM new_rows
    WHERE state IN ('sent', 'failed', 'bounced') AND channel IN ('email', 'sms') AND source <> 'operator'
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (campaign_id, minute, channel, outcome, shard) DO UPDATE SET n = m.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

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
    v_charted uuid[];
    v_minutes timestamptz[];
    v_chart_channels text[];
    v_outcomes text[];
    v_n bigint[];
BEGIN
    -- One statement: the moves are computed once and feed the events, the claims, and the
    -- changes of the counts, of the rate and of the chart.
    WITH moves AS MATERIALIZED (
        SELECT n.campaign_id, n.recipient_id, n.channel, n.state, o.state AS old_state, n.locale,
               o.locale AS old_locale, n.source, n.updated_at, n.provider_id, n.error, n.worker_id,
               CASE WHEN o.state = 'sending' THEN o.attempts ELSE n.attempts END AS attempt,
               CASE WHEN o.state = 'sending' THEN o.updated_at END AS started_at,
               n.state = 'sent' AND n.claimed_at IS NOT NULL AS holds_sent,
               o.state = 'sent' AND o.claimed_at IS NOT NULL AS held_sent,
               o.source AS old_source, o.updated_at AS old_at, o.attempts AS old_attempts, o.error AS old_error,
               o.claimed_at AS old_claimed_at
        FROM new_rows n JOIN old_rows o USING (campaign_id, recipient_id, channel)
        WHERE n.state <> o.state
    ), logged AS (
        -- The sent entry a delivery held, now that it moves on; then the move itself, unless
        -- it is a claim or a sent entry the delivery holds. A sent event leaves its provider
        -- ID to its delivery, which keeps it from then on.
        INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error, started_at)
        SELECT campaign_id, recipient_id, channel, 'sent', old_source, old_at, old_attempts, '', old_error, old_claimed_at
        FROM moves WHERE held_sent
        UNION ALL
        SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempt,
            CASE WHEN state = 'sent' THEN '' ELSE provider_id END, error, started_at FROM moves
        WHERE NOT (state = 'sending' AND old_state = 'queued') AND NOT holds_sent
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
    ), charted AS (
        SELECT campaign_id, date_trunc('minute', updated_at) AS minute, channel,
            CASE state WHEN 'sent' THEN 'sent' ELSE 'failed' END AS outcome, count(*) AS n FROM moves
        WHERE state IN ('sent', 'failed', 'bounced') AND channel IN ('email', 'sms') AND source <> 'operator'
        GROUP BY 1, 2, 3, 4
    )
    SELECT c.campaigns, c.channels, c.states, c.locales, c.deltas, r.campaigns, r.seconds, r.sent,
        h.campaigns, h.minutes, h.channels, h.outcomes, h.n
    INTO v_campaigns, v_channels, v_states, v_locales, v_deltas, v_rated, v_seconds, v_sent,
        v_charted, v_minutes, v_chart_channels, v_outcomes, v_n
    FROM (SELECT array_agg(campaign_id ORDER BY campaign_id, channel, state, locale) AS campaigns,
              array_agg(channel ORDER BY campaign_id, channel, state, locale) AS channels,
              array_agg(state ORDER BY campaign_id, channel, state, locale) AS states,
              array_agg(locale ORDER BY campaign_id, channel, state, locale) AS locales,
              array_agg(d ORDER BY campaign_id, channel, state, locale) AS deltas FROM counted) c,
         (SELECT array_agg(campaign_id ORDER BY campaign_id, second) AS campaigns,
              array_agg(second ORDER BY campaign_id, second) AS seconds,
              array_agg(sent ORDER BY campaign_id, second) AS sent FROM rated) r,
         (SELECT array_agg(campaign_id ORDER BY campaign_id, minute, channel, outcome) AS campaigns,
              array_agg(minute ORDER BY campaign_id, minute, channel, outcome) AS minutes,
              array_agg(channel ORDER BY campaign_id, minute, channel, outcome) AS channels,
              array_agg(outcome ORDER BY campaign_id, minute, channel, outcome) AS outcomes,
              array_agg(n ORDER BY campaign_id, minute, channel, outcome) AS n FROM charted) h;
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
    FOR i IN 1 .. coalesce(array_length(v_minutes, 1), 0) LOOP
        UPDATE delivery_minutes SET n = n + v_n[i]
        WHERE campaign_id = v_charted[i] AND minute = v_minutes[i] AND channel = v_chart_channels[i]
            AND outcome = v_outcomes[i] AND shard = v_shard;
        IF NOT FOUND THEN
            INSERT INTO delivery_minutes AS m (campaign_id, minute, channel, outcome, shard, n)
            VALUES (v_charted[i], v_minutes[i], v_chart_channels[i], v_outcomes[i], v_shard, v_n[i])
            ON CONFLICT (campaign_id, minute, channel, outcome, shard) DO UPDATE SET n = m.n + excluded.n;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- Back to a sent event per notice: the entries deliveries hold are written as events.
-- The strongest lock at once: a claim takes two weaker ones, and one taken between them would
-- deadlock with it. Stop this release's workers before going down (00025's Down drops the
-- column their record writes).
LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE;
UPDATE sent_record SET held = false, set_at = now();
INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error, started_at)
SELECT campaign_id, recipient_id, channel, 'sent', source, updated_at, attempts, '', error, claimed_at
FROM deliveries WHERE state = 'sent' AND claimed_at IS NOT NULL;
-- Their entries are events now: the deliveries no longer hold them.
UPDATE deliveries SET claimed_at = NULL WHERE claimed_at IS NOT NULL;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
    SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error
    FROM new_rows WHERE state <> 'queued' OR queued_at IS NULL;
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, locale, shard, n)
    SELECT campaign_id, channel, state, locale, pg_backend_pid() % 8, count(*) FROM new_rows
    GROUP BY campaign_id, channel, state, locale ORDER BY campaign_id, channel, state, locale
    ON CONFLICT (campaign_id, channel, state, locale, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

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

