-- +goose Up

-- Tracking by locale: each delivery records the locale its notice is written in, negotiated by
-- the planner when it creates the delivery (internal/notice, Negotiator: the customer's locale
-- matched against the campaign's offered ones, else their country's language, else the
-- campaign's default). It never changes afterwards. Deliveries created before this migration
-- have ''. A constant default: adding the column rewrites nothing.
ALTER TABLE deliveries ADD COLUMN locale text NOT NULL DEFAULT '';

-- The delivery counts are kept per locale too, so that the status API answers "how many Korean
-- SMS are still queued" from a few hundred counter rows, never from a scan of the deliveries.
ALTER TABLE delivery_counts ADD COLUMN locale text NOT NULL DEFAULT '';
ALTER TABLE delivery_counts DROP CONSTRAINT delivery_counts_pkey,
    ADD PRIMARY KEY (campaign_id, channel, state, locale, shard);

-- Notices sent per campaign and second, for the status's send rate. Counting the sent events of
-- the last seconds instead read every event of the campaign (the events' time index is a BRIN,
-- which the planner passes over for the campaign's btree): 100 ms at 200,000 recipients, and
-- growing. Sharded like the counts; a campaign sending for an hour adds 3,600 × 8 rows at most.
CREATE TABLE delivery_rates (
    campaign_id  uuid NOT NULL,
    second       timestamptz NOT NULL,
    shard        smallint NOT NULL,
    sent         bigint NOT NULL,
    PRIMARY KEY (campaign_id, second, shard)
);

-- The same statement-level triggers as in 00003, grouping by locale as well: still one
-- upsert per (channel, state, locale) that a statement touches, a handful per batch, plus one
-- per second for a statement that sends.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
    SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error
    FROM new_rows;
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
    -- One statement: the moves are computed once and feed both the events and the counts.
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
    SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error
    FROM new_rows;
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, shard, n)
    SELECT campaign_id, channel, state, pg_backend_pid() % 8, count(*) FROM new_rows
    GROUP BY campaign_id, channel, state ORDER BY campaign_id, channel, state
    ON CONFLICT (campaign_id, channel, state, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moves AS (
        SELECT n.campaign_id, n.recipient_id, n.channel, n.state, o.state AS old_state, n.source, n.updated_at,
               n.attempts, n.provider_id, n.error
        FROM new_rows n JOIN old_rows o USING (campaign_id, recipient_id, channel)
        WHERE n.state <> o.state
    ), logged AS (
        INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
        SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error FROM moves
    )
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, shard, n)
    SELECT campaign_id, channel, state, pg_backend_pid() % 8, sum(d) FROM (
        SELECT campaign_id, channel, state, 1 AS d FROM moves
        UNION ALL
        SELECT campaign_id, channel, old_state, -1 FROM moves
    ) m
    GROUP BY campaign_id, channel, state ORDER BY campaign_id, channel, state
    ON CONFLICT (campaign_id, channel, state, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Fold each counter's locales back into one row before the old key returns.
CREATE TEMPORARY TABLE folded_counts ON COMMIT DROP AS
    SELECT campaign_id, channel, state, shard, sum(n) AS n FROM delivery_counts GROUP BY campaign_id, channel, state, shard;
DELETE FROM delivery_counts;
ALTER TABLE delivery_counts DROP CONSTRAINT delivery_counts_pkey, DROP COLUMN locale,
    ADD PRIMARY KEY (campaign_id, channel, state, shard);
INSERT INTO delivery_counts (campaign_id, channel, state, shard, n) SELECT campaign_id, channel, state, shard, n FROM folded_counts;
ALTER TABLE deliveries DROP COLUMN locale;
DROP TABLE delivery_rates;
