-- +goose Up

-- A customer whose row names no exposed category gets the campaign's default categories
-- (default_exposed). When a later row of the same customer names some — later in the same list,
-- after the first row was already copied, or in a later list — those are what the list says,
-- and the default was only a stand-in: the merge used to unite them, and the notice told a
-- customer whose list said "email" that their national ID was exposed too. exposed_default
-- says the categories are the default's, so that the merge replaces them instead.
ALTER TABLE recipients ADD COLUMN exposed_default boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE recipients DROP COLUMN exposed_default;
