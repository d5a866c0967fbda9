-- +goose Up

-- Sending: who started a campaign and when it ended; how far its delivery rows have been
-- created (planned_through is the highest recipient id planned, planned says all are).
ALTER TABLE campaigns
    ADD COLUMN started_by      text NOT NULL DEFAULT '',
    ADD COLUMN started_at      timestamptz,
    ADD COLUMN finished_at     timestamptz,
    ADD COLUMN planned_through bigint NOT NULL DEFAULT 0,
    ADD COLUMN planned         boolean NOT NULL DEFAULT false,
    -- The number of recipients when the campaign was approved (its list is frozen then).
    ADD COLUMN recipients      bigint NOT NULL DEFAULT 0;

-- Deliveries: one notice to one recipient over one channel, the record of what was sent.
-- States (breach.DeliveryState): queued → sending → sent → delivered, and the ends bounced,
-- failed, suppressed. A delivery is created queued when its campaign's planner reaches its
-- recipient; until then the recipient counts as pending. A worker claims a delivery
-- (queued → sending, a conditional update) before sending it, so a duplicated task never sends
-- twice. A transient failure puts it back to queued with a later next_attempt_at.
--
-- One partition per campaign (deliveries_<campaign id without dashes>), created when the
-- campaign starts, so that a purge is a DROP and a campaign's scans stay within its own rows.
-- fillfactor 70 leaves room on each page for the state updates to be HOT (no index touched).
CREATE TABLE deliveries (
    campaign_id      uuid NOT NULL,
    recipient_id     bigint NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'sms')),
    state            text NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'bounced', 'failed', 'suppressed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- The worker process holding the claim while state is sending.
    worker_id        uuid,
    provider_id      text NOT NULL DEFAULT '',
    -- The last failure, as the provider or relay reported it. It may quote an address: it is
    -- personal data, shown to operators and purged with the campaign, never logged.
    error            text NOT NULL DEFAULT '',
    -- Who made the latest transition: planner, worker, reconciler, operator, webhook.
    source           text NOT NULL,
    -- Whether this delivery replaces one that failed or was suppressed on the other channel.
    fallback         boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, recipient_id, channel)
) PARTITION BY LIST (campaign_id);

-- Delivery events: one row per transition of a delivery, written by the triggers below so that
-- no code path can change a state without leaving its trace. The proof of notice.
CREATE TABLE delivery_events (
    campaign_id   uuid NOT NULL,
    recipient_id  bigint NOT NULL,
    channel       text NOT NULL,
    state         text NOT NULL,
    source        text NOT NULL,
    at            timestamptz NOT NULL,
    attempt       integer NOT NULL,
    provider_id   text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT ''
) PARTITION BY LIST (campaign_id);
CREATE INDEX delivery_events_recipient ON delivery_events (campaign_id, recipient_id);
-- Events are appended in time order: a block-range index finds the last seconds (the send
-- rate) for almost nothing.
CREATE INDEX delivery_events_at ON delivery_events USING brin (at);

-- Delivery counts per campaign, channel and state, kept by the same triggers in the same
-- transactions as the deliveries: a campaign's status is a few dozen rows, not a scan of
-- millions. Each database session adds to its own shard (its backend PID modulo 8), so that
-- workers recording at once do not queue on the same rows; a count is the sum of its shards,
-- and one shard alone may be negative.
CREATE TABLE delivery_counts (
    campaign_id  uuid NOT NULL,
    channel      text NOT NULL,
    state        text NOT NULL,
    shard        smallint NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (campaign_id, channel, state, shard)
);

-- +goose StatementBegin
CREATE FUNCTION deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error)
    SELECT campaign_id, recipient_id, channel, state, source, updated_at, attempts, provider_id, error
    FROM new_rows;
    -- Sorted, so that concurrent statements lock the counters in the same order.
    INSERT INTO delivery_counts AS c (campaign_id, channel, state, shard, n)
    SELECT campaign_id, channel, state, pg_backend_pid() % 8, count(*) FROM new_rows
    GROUP BY campaign_id, channel, state ORDER BY campaign_id, channel, state
    ON CONFLICT (campaign_id, channel, state, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- One statement: the moves are computed once and feed both the events and the counts.
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

CREATE TRIGGER deliveries_inserted AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_inserted();
CREATE TRIGGER deliveries_updated AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_updated();

-- Suppressions: addresses that must not be sent to (opt-outs, complaints, hard bounces,
-- carrier STOP replies), per channel, across campaigns. address is a normalized email or an
-- E.164 number, as in recipients.
CREATE TABLE suppressions (
    channel      text NOT NULL CHECK (channel IN ('email', 'sms')),
    address      text COLLATE "C" NOT NULL,
    source       text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    campaign_id  uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, address)
);

-- Worker processes, for telling a claim whose worker died (no heartbeat) from one in progress.
CREATE TABLE workers (
    id            uuid PRIMARY KEY,
    host          text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE workers;
DROP TABLE suppressions;
DROP TABLE delivery_counts;
DROP TABLE delivery_events;
DROP TABLE deliveries;
DROP FUNCTION deliveries_updated();
DROP FUNCTION deliveries_inserted();
ALTER TABLE campaigns DROP COLUMN recipients, DROP COLUMN planned, DROP COLUMN planned_through, DROP COLUMN finished_at,
    DROP COLUMN started_at, DROP COLUMN started_by;
