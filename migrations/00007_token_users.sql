-- +goose Up

-- An operator token may belong to a console user (breachnotice token create --user LOGIN).
-- A bound token acts as that user — actor "user:<login>", the user's roles — and stops working
-- as soon as the user is disabled. Tokens without a user (those made before this migration,
-- and `run`'s demo token) keep acting as "token:<name>" with every role, except that they
-- cannot approve a campaign that needs two people. Users are never deleted, so the reference
-- needs no ON DELETE.
ALTER TABLE api_tokens ADD COLUMN user_id bigint REFERENCES users (id);

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN user_id;
