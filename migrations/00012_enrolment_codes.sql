-- +goose Up

-- Enrolment codes: a campaign's pool of identity-protection codes, as the vendor delivered them
-- (breachnotice codes import), and which customer each went to. A customer whose list row gives
-- no code of their own gets one free code of the pool, assigned once and kept (recipient_id),
-- so every notice, retry and preview shows the same code.
--
-- No code goes to two customers: code_key (the code in upper case: vendors read codes without
-- regard to case) is unique per campaign, and so is recipient_id. Assignments are made by one
-- set-based statement under the campaign's row lock (internal/postgres/codes.go), the lock
-- every list import, codes import and approval takes; the constraints are the last word if
-- anything ever did otherwise.
--
-- seq keeps the vendor's file order: codes are handed out first come, first served.
-- campaign_id has no foreign key, as for recipients: its check would be a trigger fired once per
-- code of a pool of millions; the codes import holds the campaign's row lock instead.
CREATE TABLE enrolment_codes (
    campaign_id   uuid NOT NULL,
    code          text COLLATE "C" NOT NULL,
    code_key      text COLLATE "C" GENERATED ALWAYS AS (upper(code)) STORED,
    seq           bigint GENERATED ALWAYS AS IDENTITY,
    recipient_id  bigint,
    added_at      timestamptz NOT NULL DEFAULT now(),
    assigned_at   timestamptz,
    PRIMARY KEY (campaign_id, code_key)
);
-- One code per customer; also how a customer's code is found (preview, dispatch). Partial: the
-- free codes of a pool of millions need no entry.
CREATE UNIQUE INDEX enrolment_codes_recipient ON enrolment_codes (campaign_id, recipient_id) WHERE recipient_id IS NOT NULL;

-- The pool's counts, one row per campaign that has a pool, written with every assignment (by a
-- codes import, a list import, an approval) so that showing a campaign reads one row instead of
-- counting millions. Its existence is what says the campaign uses a pool.
CREATE TABLE enrolment_code_pools (
    campaign_id  uuid PRIMARY KEY,
    size         bigint NOT NULL DEFAULT 0,
    assigned     bigint NOT NULL DEFAULT 0,
    missing      bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE enrolment_code_pools;
DROP TABLE enrolment_codes;
