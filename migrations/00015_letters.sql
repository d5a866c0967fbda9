-- +goose Up

-- Postal letters (issue 12). Expand-only: a binary one release older keeps working against
-- this schema (its INSERTs do not name postal and always give an email or a phone; it never
-- writes a letter's delivery, and its status skips a channel it does not know).

-- A customer's postal address, as breach.PostalAddress encodes it in JSON
-- ({"line1", "line2", "line3", "city", "region", "postal_code", "country"}); NULL when the list
-- gave none. One nullable column: adding it rewrites nothing, and the many lists without
-- addresses store nothing more. Personal data: purged with the rest.
ALTER TABLE recipients ADD COLUMN postal jsonb;

-- A customer reachable only by post is a customer all the same: the rule that every recipient
-- can be reached now counts an address (and still holds until the purge).
ALTER TABLE recipients DROP CONSTRAINT recipients_address;
ALTER TABLE recipients ADD CONSTRAINT recipients_address
    CHECK (email IS NOT NULL OR phone IS NOT NULL OR postal IS NOT NULL OR purged_at IS NOT NULL);

-- Letters are deliveries on the channel 'letter', whose states are pending → printed → mailed,
-- or returned. The sending engine never queues, claims or sends them (they are never queued).
-- The campaigns' partitions inherit these constraints (dropped with the parent's, re-added by
-- it), so one statement each covers every campaign.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'sms', 'letter'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('queued', 'sending', 'sent', 'delivered',
    'bounced', 'failed', 'suppressed', 'pending', 'printed', 'mailed', 'returned'));

-- +goose Down
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'bounced', 'failed', 'suppressed'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'sms'));
ALTER TABLE recipients DROP CONSTRAINT recipients_address;
ALTER TABLE recipients ADD CONSTRAINT recipients_address
    CHECK (email IS NOT NULL OR phone IS NOT NULL OR purged_at IS NOT NULL);
ALTER TABLE recipients DROP COLUMN postal;
