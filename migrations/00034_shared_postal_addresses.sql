-- +goose Up

-- One letter per person and postal address (DESIGN: duplicates by address are merged or
-- reported, never sent twice), as 00032 did for email addresses and phone numbers: one person's
-- customer_ids at one postal address are told by one letter, which names what was exposed under
-- each of them (letter_exposed, on the customer whose letter it is; letter_covers lists the
-- others), and the others are printed none (letter_with is the customer whose letter tells
-- them). Decided at approval (internal/postgres/shared.go). NULL: the customer's own letter.
ALTER TABLE recipients
    ADD COLUMN letter_with bigint,
    ADD COLUMN letter_covers bigint[],
    ADD COLUMN letter_exposed integer;

-- How many customers the approval merged into another's letter, and how many share their
-- postal address with a different customer (the status reports them).
ALTER TABLE campaigns
    ADD COLUMN merged_letter bigint NOT NULL DEFAULT 0,
    ADD COLUMN shared_letter bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE campaigns DROP COLUMN shared_letter, DROP COLUMN merged_letter;
ALTER TABLE recipients DROP COLUMN letter_exposed, DROP COLUMN letter_covers, DROP COLUMN letter_with;
