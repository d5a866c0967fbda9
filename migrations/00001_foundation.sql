-- +goose Up

-- Campaigns: one breach notification. spec is the validated campaign file (breach.Campaign as
-- JSON); source is the file as uploaded, kept for the audit trail.
CREATE TABLE campaigns (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL,
    state          text NOT NULL DEFAULT 'draft'
                   CHECK (state IN ('draft', 'approved', 'running', 'paused', 'completed', 'cancelled')),
    spec           jsonb NOT NULL,
    source         text NOT NULL,
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Imports: one customer list loaded into a campaign. The counts always satisfy
-- read = accepted + merged + rejected once completed.
CREATE TABLE imports (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id  uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed', 'failed')),
    filename     text NOT NULL DEFAULT '',
    encoding     text NOT NULL DEFAULT '',
    delimiter    text NOT NULL DEFAULT '',
    read         bigint NOT NULL DEFAULT 0,
    accepted     bigint NOT NULL DEFAULT 0,
    merged       bigint NOT NULL DEFAULT 0,
    rejected     bigint NOT NULL DEFAULT 0,
    updated      bigint NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    created_by   text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK (state <> 'completed' OR read = accepted + merged + rejected)
);
CREATE INDEX imports_campaign ON imports (campaign_id, started_at);

-- The rows of an import that were not imported, and why. line is the row's first line in the
-- original file (the header is line 1).
CREATE TABLE import_rejects (
    import_id    uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line         bigint NOT NULL,
    customer_id  text NOT NULL DEFAULT '',
    field        text NOT NULL DEFAULT '',
    reason       text NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- Recipients: the affected customers of a campaign, one row per customer_id however many rows
-- or imports named them. exposed is a bit set of data categories (bit i = breach.Category i,
-- see internal/breach/category.go). A row naming none gets the campaign's default at import.
--
-- One partition per campaign (recipients_<campaign id without dashes>), created by the
-- campaign's first import: the list is copied into a fresh table and its indexes are built
-- afterwards, which costs PostgreSQL 40% less than maintaining them row by row, and purging a
-- finished campaign's personal data is dropping its partition. campaign_id has no foreign key:
-- its check was a trigger fired once per row; imports hold the campaign's row lock instead.
-- Partitions are created by the application (internal/postgres/importsession.go).
CREATE SEQUENCE recipients_id_seq AS bigint CACHE 1000;
CREATE TABLE recipients (
    id            bigint NOT NULL DEFAULT nextval('recipients_id_seq'),
    campaign_id   uuid NOT NULL,
    -- An identifier, compared byte for byte: the "C" collation makes its index several times
    -- cheaper to build and search than the database's linguistic one.
    customer_id   text COLLATE "C" NOT NULL,
    email         text,
    phone         text,
    name          text NOT NULL DEFAULT '',
    locale        text NOT NULL DEFAULT '',
    country       text NOT NULL DEFAULT '',
    jurisdiction  text NOT NULL DEFAULT '',
    exposed       integer NOT NULL DEFAULT 0,
    attributes    jsonb NOT NULL DEFAULT '{}',
    import_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR phone IS NOT NULL),
    PRIMARY KEY (campaign_id, id),
    UNIQUE (campaign_id, customer_id)
) PARTITION BY LIST (campaign_id);
ALTER SEQUENCE recipients_id_seq OWNED BY recipients.id;

-- jsonb_merge_agg merges JSON objects key by key, later ones winning: the || operator as an
-- aggregate. An import folds a customer's several rows' attributes with it, in line order.
CREATE AGGREGATE jsonb_merge_agg (jsonb) (SFUNC = jsonb_concat, STYPE = jsonb, INITCOND = '{}');

-- Operator API tokens. Only a SHA-256 hash of each token is stored: the token itself is shown
-- once, when created.
CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    hash          bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- Audit log: every operator action, append-only (no UPDATE or DELETE is ever issued on it).
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    campaign_id  uuid,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_campaign ON audit_log (campaign_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP AGGREGATE jsonb_merge_agg (jsonb);
DROP TABLE api_tokens;
DROP TABLE recipients;
DROP TABLE import_rejects;
DROP TABLE imports;
DROP TABLE campaigns;
