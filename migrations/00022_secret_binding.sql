-- +goose Up

-- Which BREACHNOTICE_SECRET this database's records are keyed with. Reference codes (stored as
-- each list is imported, recipients.ref_key), opt-out links, provider report tokens and purge
-- proofs are all keyed with it, and a process given another — a command line run without the
-- variable falls back to a generated demo secret; a worker deployed with a stale value — made
-- them silently wrong: a list imported that way got codes /verify then called fake, for every
-- customer. Now the first process with a secret records its fingerprint here (an HMAC of a
-- fixed label under the secret: it reveals nothing of it), and a process with another is
-- refused before the first operation that keys or checks a record (operation.Service.CheckSecret).
--
-- Expand-only: a new table of one row. The previous release does not read it; a database it
-- ran on gets its row from the first process of this release, checked against the reference
-- codes already stored.
CREATE TABLE secret_binding (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    fingerprint  bytea NOT NULL,
    bound_at     timestamptz NOT NULL DEFAULT now(),
    bound_by     text NOT NULL
);

-- +goose Down
DROP TABLE secret_binding;
