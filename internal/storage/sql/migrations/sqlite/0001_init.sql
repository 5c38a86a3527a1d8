-- The initial schema (SQLite). Times are INTEGER unix microseconds in UTC;
-- NULL is the zero time. Byte columns hold NULL for empty.

CREATE TABLE persons (
    id          TEXT    NOT NULL PRIMARY KEY,
    idx         BLOB    NOT NULL UNIQUE,
    key_id      TEXT    NOT NULL,
    wrapped_key BLOB,
    name_ct     BLOB,
    number_ct   BLOB,
    cert_type   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE verifications (
    certify_id          TEXT    NOT NULL PRIMARY KEY,
    user_id             TEXT    NOT NULL,
    person_id           TEXT    NOT NULL,
    provider            TEXT    NOT NULL,
    provider_ref        TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    cert_type           TEXT    NOT NULL,
    attempts            INTEGER NOT NULL,
    identity_checked    INTEGER NOT NULL,
    score               REAL    NOT NULL,
    sub_code            TEXT    NOT NULL,
    fail_reason         TEXT    NOT NULL,
    verify_url          TEXT    NOT NULL,
    callback_token_hash BLOB,
    consent             TEXT    NOT NULL,
    evidence            TEXT    NOT NULL,
    result_deleted      INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    deadline            INTEGER NOT NULL,
    completed_at        INTEGER,
    expires_at          INTEGER,
    notify_url          TEXT    NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX verifications_provider_ref ON verifications (provider, provider_ref)
    WHERE provider_ref <> '';
CREATE INDEX verifications_user_created ON verifications (user_id, created_at);
CREATE INDEX verifications_status_updated ON verifications (status, updated_at);

CREATE TABLE users (
    user_id     TEXT    NOT NULL PRIMARY KEY,
    person_id   TEXT    NOT NULL UNIQUE,
    certify_id  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    evidence    TEXT    NOT NULL,
    verified_at INTEGER NOT NULL,
    expires_at  INTEGER
);

CREATE INDEX users_status_expires ON users (status, expires_at);

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE idempotency (
    scope       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint BLOB,
    certify_id  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
