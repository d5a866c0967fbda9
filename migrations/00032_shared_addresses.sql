-- +goose Up

-- One notice per address (DESIGN: duplicates by address are merged, never sent twice). Two
-- customers of a campaign with the same email address (or phone number) — a family's accounts,
-- a person with two lines — would each be sent a notice there: the mailbox gets two, each
-- telling half of what was exposed. At approval, when the list and the channel policy are final,
-- the earliest of them keeps the notice (email_covers lists the others, email_exposed is what its
-- notice names: their exposed categories and its own) and the others are planned nothing on that
-- channel (email_with is the customer whose notice tells them). Should that notice fail for good,
-- each of them gets their own fallback, as the customer does. NULL: the customer's own notice.
ALTER TABLE recipients
    ADD COLUMN email_with bigint,
    ADD COLUMN email_covers bigint[],
    ADD COLUMN email_exposed integer,
    ADD COLUMN phone_with bigint,
    ADD COLUMN phone_covers bigint[],
    ADD COLUMN phone_exposed integer;

-- An address given to more customers than a family has is a placeholder (sinemail@…): no notice
-- goes there, its _with is 0, and its customers are reached by their other channel.

-- How many customers the approval merged into another's notice, and whose address it took for
-- a placeholder, per channel (the status reports them).
ALTER TABLE campaigns
    ADD COLUMN merged_email bigint NOT NULL DEFAULT 0,
    ADD COLUMN merged_sms bigint NOT NULL DEFAULT 0,
    ADD COLUMN shared_email bigint NOT NULL DEFAULT 0,
    ADD COLUMN shared_sms bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE campaigns DROP COLUMN shared_sms, DROP COLUMN shared_email, DROP COLUMN merged_sms, DROP COLUMN merged_email;
ALTER TABLE recipients DROP COLUMN phone_exposed, DROP COLUMN phone_covers, DROP COLUMN phone_with,
    DROP COLUMN email_exposed, DROP COLUMN email_covers, DROP COLUMN email_with;
