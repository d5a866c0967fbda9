-- +goose Up

-- What is sent is what was approved (hostile review): an approval read the notices as the
-- approving process renders them, and the worker rendered them from its own templates
-- (TEMPLATES_DIR, or a later release's embedded ones), never checked. Each approval now
-- records the digest of the templates it saw (notice.Renderer.Digest), an approval given with
-- other templates than an earlier one of the same list is refused, and the campaign keeps the
-- digest it was approved with: a worker whose templates differ sends none of its notices.
-- Campaigns approved before this migration have none, and are sent as before.
ALTER TABLE campaign_approvals ADD COLUMN templates text;
ALTER TABLE campaigns ADD COLUMN templates_digest text;

-- +goose Down
ALTER TABLE campaigns DROP COLUMN templates_digest;
ALTER TABLE campaign_approvals DROP COLUMN templates;
