-- +goose Up

-- A campaign's list version, kept (issue 13). An approval is of the list its approver saw: a
-- list imported since (by an uploader, who may not approve) must not be approved unseen. The
-- version was derived on every read from the imports' times and, for a draft, from the audit
-- log's codes-import rows — a time, which a database clock stepped backwards could repeat, and
-- an audit-log scan (with a JSON key acting as schema) on every showing of a draft.
--
-- Now campaigns.list_version counts the changes of the list, and the database moves it itself:
--
--   * an import that completes (its imports row moved to 'completed', in the transaction that
--     holds the campaign's row lock and lands its rows), and
--   * a statement that adds enrolment codes to a draft's pool (a codes import, under the same
--     lock: its customers' notices now carry the codes)
--
-- each add one. A failed import brought nothing and changes nothing (it used to reset the
-- approvals). campaign_approvals.list_version is the version an approval was given for, set
-- from the campaign when the approval is written; the approvals that count are those of the
-- current version.
--
-- Triggers, not the Go code, so that whichever binary writes (the previous release during a
-- rolling upgrade imports without knowing of the version) moves it. Expand-only: two added
-- columns (the NOT NULL one with a default), three triggers. The previous release keeps
-- reading approvals by time (imports' finished_at and the audit log), which these writes leave
-- as they were.
ALTER TABLE campaigns ADD COLUMN list_version bigint NOT NULL DEFAULT 1;
ALTER TABLE campaign_approvals ADD COLUMN list_version bigint;

LOCK TABLE campaigns, imports, campaign_approvals, enrolment_codes IN SHARE ROW EXCLUSIVE MODE;

-- Every campaign is at version 1; the approvals that counted under the rule till now (given
-- after the list's last change) are of it, the others of version 0.
UPDATE campaign_approvals a SET list_version = CASE WHEN a.at > coalesce(greatest(
    (SELECT max(coalesce(i.finished_at, i.started_at)) FROM imports i WHERE i.campaign_id = a.campaign_id),
    (SELECT max(l.at) FROM audit_log l WHERE l.campaign_id = a.campaign_id AND l.action = 'codes.import'
        AND (l.detail->>'added')::bigint > 0)), '-infinity') THEN 1 ELSE 0 END;

-- +goose StatementBegin
CREATE FUNCTION campaign_approvals_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The approval is written under the campaign's row lock: the version read is the one the
    -- approval rules were checked against.
    SELECT c.list_version INTO NEW.list_version FROM campaigns c WHERE c.id = NEW.campaign_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_approvals_versioned BEFORE INSERT ON campaign_approvals
    FOR EACH ROW EXECUTE FUNCTION campaign_approvals_versioned();

-- +goose StatementBegin
CREATE FUNCTION imports_completed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns SET list_version = list_version + 1 WHERE id = NEW.campaign_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER imports_completed AFTER UPDATE OF state ON imports
    FOR EACH ROW WHEN (NEW.state = 'completed' AND OLD.state IS DISTINCT FROM 'completed')
    EXECUTE FUNCTION imports_completed();

-- +goose StatementBegin
CREATE FUNCTION enrolment_codes_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns SET list_version = list_version + 1
    WHERE state = 'draft' AND id IN (SELECT DISTINCT campaign_id FROM new_rows);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER enrolment_codes_added AFTER INSERT ON enrolment_codes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enrolment_codes_added();

-- +goose Down
DROP TRIGGER enrolment_codes_added ON enrolment_codes;
DROP FUNCTION enrolment_codes_added();
DROP TRIGGER imports_completed ON imports;
DROP FUNCTION imports_completed();
DROP TRIGGER campaign_approvals_versioned ON campaign_approvals;
DROP FUNCTION campaign_approvals_versioned();
ALTER TABLE campaign_approvals DROP COLUMN list_version;
ALTER TABLE campaigns DROP COLUMN list_version;
