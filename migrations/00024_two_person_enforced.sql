-- +goose Up

-- The database enforces its two-person rule (approval_policy, migration 00023) itself: a
-- campaign moves from draft to approved only with the approvals of two people for its list as
-- it is. The application checks the rule (and who may approve) before it gets here; this
-- catches what it cannot: a process of an earlier release, during an upgrade, that applies only
-- its own REQUIRE_TWO_PERSON — without it, it approved a campaign on one approval. Such an
-- approval is refused, with this message, and its transaction rolled back.
--
-- Expand-only: a trigger on a state change the current release makes only with the approvals
-- counted here.
-- +goose StatementBegin
CREATE FUNCTION campaigns_two_person_enforced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM approval_policy WHERE two_person)
        AND (SELECT count(DISTINCT actor) FROM campaign_approvals
             WHERE campaign_id = NEW.id AND list_version = NEW.list_version) < 2 THEN
        RAISE EXCEPTION 'this deployment requires two approvers (REQUIRE_TWO_PERSON, recorded in the database): campaign % has fewer for its list', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER campaigns_two_person_enforced BEFORE UPDATE OF state ON campaigns
    FOR EACH ROW WHEN (OLD.state = 'draft' AND NEW.state = 'approved')
    EXECUTE FUNCTION campaigns_two_person_enforced();

-- +goose Down
DROP TRIGGER campaigns_two_person_enforced ON campaigns;
DROP FUNCTION campaigns_two_person_enforced();
