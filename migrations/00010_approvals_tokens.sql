-- +goose Up

-- Approvals, one row per approver: a campaign that needs two people stays a draft after the
-- first and is approved by the second, who must be another user (breach.Campaign.CheckApproval).
-- An approval is of the list as it was: approvals older than the campaign's last import no
-- longer count (see postgres.Approvals). Rows are never updated or deleted but with their
-- campaign.
CREATE TABLE campaign_approvals (
    campaign_id  uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    actor        text NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (campaign_id, actor, at)
);

-- Tokens expire (token create --expires; 90 days by default): a forgotten token must not open
-- the API for years. Tokens made before this migration never expire until revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;
DROP TABLE campaign_approvals;
