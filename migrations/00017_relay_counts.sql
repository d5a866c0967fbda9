-- +goose Up

-- Several SMTP relays (SMTP_URLS, issue 11): what each relay did for each campaign, for the
-- status and the console. A counter row per campaign and relay, added to once per batch of
-- recorded outcomes (one upsert of a few rows per write of up to 64 outcomes), rather than a
-- relay column on every delivery: the deliveries' rows and WAL stay as they were, the status
-- reads a few rows instead of grouping the deliveries, and a relay's failures count even when
-- another relay then took the notice (a delivery row only knows its last relay).
--   sent      the messages the relay accepted
--   failed    the tries it failed: refused or dropped connections, timeouts, 4xx replies
--   rejected  the 5xx answers it gave (the customer's address refused: not the relay's fault)
--   set_aside_until  the latest end of a cool-down after its failures (workers stop choosing it
--             until then, each on its own evidence)
-- Relays are named host:port, never with their credentials. No personal data.
CREATE TABLE relay_counts (
    campaign_id      uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    relay            text NOT NULL,
    sent             bigint NOT NULL DEFAULT 0,
    failed           bigint NOT NULL DEFAULT 0,
    rejected         bigint NOT NULL DEFAULT 0,
    set_aside_until  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, relay)
);

-- +goose Down
DROP TABLE relay_counts;
