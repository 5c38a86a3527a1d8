-- Authority institutions (internal/authority): their public keys, the
-- identities they deposited, the deposits' claim codes (hashes only) and
-- the nonces of their signed requests. No personal data: a deposit points
-- at its person, whose identity is encrypted in persons.
CREATE TABLE authorities (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    public_key BYTEA   NOT NULL,
    created_by TEXT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE deposits (
    id             TEXT    NOT NULL PRIMARY KEY,
    authority_id   TEXT    NOT NULL REFERENCES authorities (id),
    person_id      TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    verified_at    TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    signature      BYTEA   NOT NULL,
    body_hash      BYTEA   NOT NULL,
    signed_message BYTEA   NOT NULL,
    user_id        TEXT    NOT NULL DEFAULT '',
    certify_id     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX deposits_person ON deposits (person_id);

CREATE TABLE claim_codes (
    hash       BYTEA   NOT NULL PRIMARY KEY,
    deposit_id TEXT    NOT NULL REFERENCES deposits (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    used_by    TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE authority_nonces (
    authority_id TEXT    NOT NULL,
    nonce        TEXT    NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (authority_id, nonce)
);

CREATE INDEX authority_nonces_expires ON authority_nonces (expires_at);
