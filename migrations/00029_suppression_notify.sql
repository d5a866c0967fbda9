-- +goose Up

-- A worker checks the suppression list when it claims a chunk of notices, then sends them
-- over seconds to minutes (the rate limits): an opt-out, a complaint or a carrier STOP recorded
-- meanwhile was sent to anyway (review of the public endpoints, finding 3). Each new
-- suppression is now announced to the listening workers, which skip a claimed notice to that
-- address. The payload names the address only by a hash (breach.SuppressedKey): no personal
-- data travels to every worker, and a worker compares it with its own notices' addresses.
-- +goose StatementBegin
CREATE FUNCTION suppressions_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- ASCII letters lower-cased only, as Go does it: lower() follows the database's locale
    -- (under C, it leaves É as it is; Go would not), and a key must be the same on both sides.
    PERFORM pg_notify('breachnotice_suppressions',
        encode(sha256(convert_to(NEW.channel || ':' || translate(NEW.address, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'UTF8')), 'hex'));
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER suppressions_announce AFTER INSERT ON suppressions
    FOR EACH ROW EXECUTE FUNCTION suppressions_announce();

-- +goose Down
DROP TRIGGER suppressions_announce ON suppressions;
DROP FUNCTION suppressions_announce();
