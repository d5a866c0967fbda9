-- +goose Up

-- The web console's accounts. A user signs in with a login and a password, of which only an
-- argon2id hash is kept (PHC string format: $argon2id$v=19$m=…,t=…,p=…$salt$hash, so that the
-- cost can be raised later without invalidating existing hashes). roles is a set of viewer,
-- operator and approver; every user may read. A disabled user cannot sign in and loses their
-- sessions. Users are never deleted: the audit log names them ("user:<login>").
CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login          text COLLATE "C" NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    display_name   text NOT NULL DEFAULT '',
    password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    roles          text[] NOT NULL
                   CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['viewer', 'operator', 'approver']),
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Console sessions. The cookie holds 256 random bits; only their SHA-256 hash is stored, so a
-- copy of this table opens no session. A session ends at expires_at, or earlier when unused
-- for idle_timeout.
CREATE TABLE user_sessions (
    hash          bytea PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    idle_timeout  interval NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- Failed sign-ins, counted per login and per client address to slow password guessing. The
-- login is kept as a SHA-256 hash: people type their password into the login field. Rows
-- older than a day are deleted as new ones arrive.
CREATE TABLE signin_failures (
    at          timestamptz NOT NULL DEFAULT now(),
    login_hash  bytea NOT NULL,
    client_ip   text NOT NULL
);
CREATE INDEX signin_failures_login ON signin_failures (login_hash, at);
CREATE INDEX signin_failures_ip ON signin_failures (client_ip, at);

-- +goose Down
DROP TABLE signin_failures;
DROP TABLE user_sessions;
DROP TABLE users;
