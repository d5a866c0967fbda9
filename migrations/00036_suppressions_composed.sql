-- +goose Up

-- Email addresses are stored composed (NFC) from this release on (breach.ParseEmail): josé
-- typed on a Mac (e and a combining accent) and on Windows are one mailbox. An opt-out or a
-- bounce recorded for the decomposed form — before this release, or by a process of the
-- previous one during the upgrade — would no longer stop a notice to the same mailbox imported
-- composed. So every email suppression of a decomposed address gets its composed twin, now and
-- whenever one is written; the decomposed row stays, for the campaigns imported before, whose
-- recipients keep that form. (normalize() needs a UTF-8 database; any other holds no such
-- address.)
-- +goose StatementBegin
CREATE FUNCTION suppressions_composed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.channel = 'email' AND current_setting('server_encoding') = 'UTF8' AND NEW.address IS NOT NFC NORMALIZED THEN
        INSERT INTO suppressions (channel, address, source, reason, campaign_id, created_at)
        VALUES (NEW.channel, normalize(NEW.address, NFC), NEW.source, NEW.reason, NEW.campaign_id, NEW.created_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER suppressions_composed AFTER INSERT ON suppressions
    FOR EACH ROW EXECUTE FUNCTION suppressions_composed();

-- +goose StatementBegin
DO $$
BEGIN
    IF current_setting('server_encoding') = 'UTF8' THEN
        INSERT INTO suppressions (channel, address, source, reason, campaign_id, created_at)
        SELECT channel, normalize(address, NFC), source, reason, campaign_id, created_at
        FROM suppressions WHERE channel = 'email' AND address IS NOT NFC NORMALIZED
        ON CONFLICT DO NOTHING;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER suppressions_composed ON suppressions;
DROP FUNCTION suppressions_composed();
