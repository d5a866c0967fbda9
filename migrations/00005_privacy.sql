-- +goose Up

-- Purge: once a finished campaign's retention period is over, its customers' names, addresses
-- and attributes are deleted. What stays is the proof of notice without the personal data:
-- customer IDs, counts, deliveries and their events (states, times, provider IDs), and per
-- recipient and channel an HMAC-SHA256 of the address under a key derived from
-- BREACHNOTICE_SECRET (see internal/postgres/privacy.go), which shows that a given address was
-- notified to whoever holds the secret and the address, and to nobody else.
ALTER TABLE campaigns
    ADD COLUMN purged_at timestamptz,
    ADD COLUMN purged_by text NOT NULL DEFAULT '';

ALTER TABLE recipients
    ADD COLUMN email_proof bytea,
    ADD COLUMN phone_proof bytea,
    ADD COLUMN purged_at   timestamptz;

-- A purged recipient has no address left: the rule that every recipient can be reached holds
-- until the purge.
ALTER TABLE recipients DROP CONSTRAINT recipients_check;
ALTER TABLE recipients ADD CONSTRAINT recipients_address
    CHECK (email IS NOT NULL OR phone IS NOT NULL OR purged_at IS NOT NULL);

-- The audit log is append-only in the database itself, not only by the application's habit: a
-- bug, a careless script or an intruder with the application's credentials cannot rewrite who
-- did what. (Dropping the table takes its owner, and leaves a trace of its own.)
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The audit API reads newest first (by id, its keyset), filtered by campaign or action.
CREATE INDEX audit_log_campaign_id ON audit_log (campaign_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- +goose Down
DROP INDEX audit_log_action;
DROP INDEX audit_log_campaign_id;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_update_or_delete ON audit_log;
DROP FUNCTION audit_log_append_only();
ALTER TABLE recipients DROP CONSTRAINT recipients_address;
ALTER TABLE recipients ADD CONSTRAINT recipients_check CHECK (email IS NOT NULL OR phone IS NOT NULL);
ALTER TABLE recipients DROP COLUMN purged_at, DROP COLUMN phone_proof, DROP COLUMN email_proof;
ALTER TABLE campaigns DROP COLUMN purged_by, DROP COLUMN purged_at;
