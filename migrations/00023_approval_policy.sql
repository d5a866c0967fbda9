-- +goose Up

-- The deployment's two-person rule, kept by the database. REQUIRE_TWO_PERSON was a setting of
-- each process: a campaign's author could approve it alone from any process started without
-- it — a command line on a laptop, a replica whose environment missed the variable — though
-- the deployment required two approvers. Now a process started with it records it here
-- (postgres.DB.RequireTwoPerson, audited), and every process reads it with each campaign: the
-- rule holds whatever the environment of the process that takes the approval.
--
-- It is lifted only by deleting the row, deliberately: no command turns the rule off.
--
-- Expand-only: a new table of one row. The previous release does not read it (its processes
-- apply their own variable, as before).
CREATE TABLE approval_policy (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    two_person  boolean NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    set_by      text NOT NULL
);

-- +goose Down
DROP TABLE approval_policy;
