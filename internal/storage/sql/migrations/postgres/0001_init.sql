-- The initial schema (PostgreSQL). Times are timestamptz (microseconds);
-- NULL is the zero time. Byte columns hold NULL for empty. Ids that are
-- ordered (persons.id for paging, certify_id as a tie-break) use the C
-- collation so they sort bytewise, as in SQLite and Go.

CREATE TABLE persons (
    id          TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
    idx         BYTEA       NOT NULL UNIQUE,
    key_id      TEXT        NOT NULL,
    wrapped_key BYTEA,
    name_ct     BYTEA,
    number_ct   BYTEA,
    cert_type   TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE verifications (
    certify_id          TEXT             COLLATE "C" NOT NULL PRIMARY KEY,
    user_id             TEXT             NOT NULL,
    person_id           TEXT             NOT NULL,
    provider            TEXT             NOT NULL,
    provider_ref        TEXT             NOT NULL,
    status              TEXT             NOT NULL,
    cert_type           TEXT             NOT NULL,
    attempts            INTEGER          NOT NULL,
    identity_checked    BOOLEAN          NOT NULL,
    score               DOUBLE PRECISION NOT NULL,
    sub_code            TEXT             NOT NULL,
    fail_reason         TEXT             NOT NULL,
    verify_url          TEXT             NOT NULL,
    callback_token_hash BYTEA,
    consent             TEXT             NOT NULL,
    evidence            TEXT             NOT NULL,
    result_deleted      BOOLEAN          NOT NULL,
    created_at          TIMESTAMPTZ      NOT NULL,
    updated_at          TIMESTAMPTZ      NOT NULL,
    deadline            TIMESTAMPTZ      NOT NULL,
    completed_at        TIMESTAMPTZ,
    expires_at          TIMESTAMPTZ,
    notify_url          TEXT    NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX verifications_provider_ref ON verifications (provider, provider_ref)
    WHERE provider_ref <> '';
CREATE INDEX verifications_user_created ON verifications (user_id, created_at);
CREATE INDEX verifications_status_updated ON verifications (status, updated_at);

CREATE TABLE users (
    user_id     TEXT        NOT NULL PRIMARY KEY,
    person_id   TEXT        NOT NULL UNIQUE,
    certify_id  TEXT        NOT NULL,
    status      TEXT        NOT NULL,
    evidence    TEXT        NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ
);

CREATE INDEX users_status_expires ON users (status, expires_at);

CREATE TABLE api_keys (
    id         TEXT        NOT NULL PRIMARY KEY,
    name       TEXT        NOT NULL,
    hash       BYTEA       NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE idempotency (
    scope       TEXT        NOT NULL,
    key         TEXT        NOT NULL,
    fingerprint BYTEA,
    certify_id  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
