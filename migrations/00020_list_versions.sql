-- +goose Up

-- A campaign's list version, kept (issue 13). An approval is of the list its approver saw: a
-- list imported since (by an uploader, who may not approve) must not be approved unseen. The
-- version was derived on every read from the imports' times and, for a draft, from the audit
-- log's codes-import rows: a time, which a database clock stepped backwards could repeat, and
-- an audit-log scan (with a JSON key acting as schema) on every showing of a draft.
--
-- Now campaigns.list_version names the list as it is, and changes with it: the database gives
-- it a new value from one sequence (so a version names one list of one campaign, and is never
-- given again) whenever an import completes or enrolment codes are added to a draft's pool.
-- campaign_approvals.list_version is the version an approval was given for; the approvals
-- that count are those of the campaign's current version. The triggers that write both, and
-- the versions of the approvals given before, are migration 00021's.
--
-- Two migrations, because of their locks. This one takes ACCESS EXCLUSIVE on campaigns and
-- campaign_approvals (the added columns; campaigns, a row per campaign, is rewritten for the
-- volatile default) and nothing else; 00021 locks the tables the triggers go on in the order
-- the application writes them, and never campaigns. In one migration, an import starting
-- (its INSERT INTO imports checks its campaign's key) deadlocked with it.
--
-- Expand-only: a sequence, and two added columns (the NOT NULL one with a default). The
-- previous release names neither.
CREATE SEQUENCE campaign_list_versions;
ALTER TABLE campaigns ADD COLUMN list_version bigint NOT NULL DEFAULT nextval('campaign_list_versions');
ALTER TABLE campaign_approvals ADD COLUMN list_version bigint;

-- +goose Down
ALTER TABLE campaign_approvals DROP COLUMN list_version;
ALTER TABLE campaigns DROP COLUMN list_version;
DROP SEQUENCE campaign_list_versions;
