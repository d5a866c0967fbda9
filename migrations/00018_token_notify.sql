-- +goose Up

-- A `serve` process keeps the operator tokens it has checked in memory (internal/postgres,
-- tokenCache) rather than reading api_tokens at every API request, and forgets them all when
-- told that a token or a user changed: revoking a token, rotating it, disabling a user or
-- changing their roles must stop their requests at once, whichever process made the change
-- (the CLI, the console, another replica). The tokens' last use (last_used_at), written once
-- a minute per token, changes no one's rights and tells no one.
-- +goose StatementBegin
CREATE FUNCTION tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('breachnotice_tokens', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_changed AFTER UPDATE OF name, hash, user_id, expires_at, revoked_at OR DELETE OR TRUNCATE
    ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION tokens_changed();
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE OR TRUNCATE
    ON users FOR EACH STATEMENT EXECUTE FUNCTION tokens_changed();

-- +goose Down
DROP TRIGGER users_changed ON users;
DROP TRIGGER api_tokens_changed ON api_tokens;
DROP FUNCTION tokens_changed();
