-- +goose Up

-- A customer whose row names no exposed category gets the campaign's default categories
-- (default_exposed). When a later row of the same customer in the same list names some — the
-- first row was already copied into the campaign — those are what the list says, and the
-- default was only a stand-in: the merge used to unite them, and the notice told a customer
-- whose list said "email" that their national ID was exposed too. exposed_default says the
-- categories are the default's, so that the merge of the same import replaces them instead (a
-- later list adds to them, as to any categories).
ALTER TABLE recipients ADD COLUMN exposed_default boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE recipients DROP COLUMN exposed_default;
