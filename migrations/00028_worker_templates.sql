-- +goose Up

-- A worker whose notice templates differ from those a campaign was approved with sends none of
-- its notices (00027), and said so only in its own log: the campaign's status showed it
-- running, with nothing sent. Each worker now records the digest of its templates
-- (notice.Renderer.Digest), so that the status can say how many live workers can send the
-- campaign. Workers of earlier releases leave it empty.
ALTER TABLE workers ADD COLUMN templates text;

-- +goose Down
ALTER TABLE workers DROP COLUMN templates;
