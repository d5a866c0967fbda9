-- +goose Up

-- The database moves a campaign's list version (migration 00020) itself, so that whichever
-- binary writes — the previous release, during a rolling upgrade, imports without knowing of
-- it — moves it:
--
--   * an import that completes (its imports row moved to 'completed', in the transaction that
--     holds the campaign's row lock and lands its rows), and
--   * a statement that adds enrolment codes to a draft's pool (a codes import, under the same
--     lock: its customers' notices now carry the codes)
--
-- each give the campaign a new version. A failed import brought nothing and changes nothing.
-- An approval is stamped with the campaign's version when it is written (under the campaign's
-- lock, where the approval rules were checked).
--
-- The tables are locked first, in the order the application writes them (an import or an
-- approval writes enrolment_codes before imports or campaign_approvals), so that no
-- transaction under way can deadlock with this one; campaigns is not locked. Nothing
-- completes an import, adds codes or gives an approval until this commits.
LOCK TABLE enrolment_codes, imports, campaign_approvals IN SHARE ROW EXCLUSIVE MODE;

-- The approvals given before: those that counted under the rule till now (given after the
-- list's last change) are of the campaign's version, the others of none (0, which no version
-- is). The list's last change is the latest of its imports' times (any import, failed too: the
-- rule till now counted them), its import audit rows' (the previous release dated an import
-- when its transaction began, before it waited for the campaign's lock; its audit row is
-- written after it landed), and its codes imports' that added codes. Computed once per
-- campaign; approvals written meanwhile by the previous release are among them.
WITH changes AS (
    SELECT campaign_id, coalesce(finished_at, started_at) AS at FROM imports
    UNION ALL
    SELECT campaign_id, at FROM audit_log WHERE action = 'import' AND campaign_id IS NOT NULL
    UNION ALL
    SELECT campaign_id, at FROM audit_log WHERE action = 'codes.import' AND (detail->>'added')::bigint > 0
), changed AS (
    SELECT campaign_id, max(at) AS at FROM changes GROUP BY campaign_id
)
UPDATE campaign_approvals a
SET list_version = CASE WHEN a.at > coalesce(ch.at, '-infinity') THEN c.list_version ELSE 0 END
FROM campaigns c LEFT JOIN changed ch ON ch.campaign_id = c.id
WHERE c.id = a.campaign_id;

-- +goose StatementBegin
CREATE FUNCTION campaign_approvals_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.list_version INTO NEW.list_version FROM campaigns c WHERE c.id = NEW.campaign_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_approvals_versioned BEFORE INSERT ON campaign_approvals
    FOR EACH ROW EXECUTE FUNCTION campaign_approvals_versioned();

-- +goose StatementBegin
CREATE FUNCTION imports_completed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns SET list_version = nextval('campaign_list_versions') WHERE id = NEW.campaign_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER imports_completed AFTER UPDATE OF state ON imports
    FOR EACH ROW WHEN (NEW.state = 'completed' AND OLD.state IS DISTINCT FROM 'completed')
    EXECUTE FUNCTION imports_completed();

-- +goose StatementBegin
CREATE FUNCTION enrolment_codes_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns SET list_version = nextval('campaign_list_versions')
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
