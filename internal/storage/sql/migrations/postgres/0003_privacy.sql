-- Privacy duties (issue 4): erasure, manual review, the audit log, the
-- lockout's operator lift and the daily provider budget.

-- A person whose data key was destroyed (erasure, withdrawal, retention).
-- Its wrapped key and ciphertexts are NULL and its index is random.
ALTER TABLE persons ADD COLUMN erased_at TIMESTAMPTZ;

-- Manual reviews: one per session whose provider is 'manual'. files_ct is
-- the submitted files and note, sealed with the person's data key; NULL
-- once the review is decided or the files passed their retention.
CREATE TABLE reviews (
    certify_id   TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
    files_ct     BYTEA,
    submitted_at TIMESTAMPTZ NOT NULL,
    decided_at   TIMESTAMPTZ,
    decided_by   TEXT        NOT NULL DEFAULT '',
    decision     TEXT        NOT NULL DEFAULT '',
    reason       TEXT        NOT NULL DEFAULT ''
);

-- Every access to decrypted personal data and every operator action.
-- subject is the platform user id (a pseudonym after erasure).
CREATE TABLE audit_log (
    id         BIGSERIAL   PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor_kind TEXT        NOT NULL,
    actor      TEXT        NOT NULL,
    action     TEXT        NOT NULL,
    subject    TEXT        NOT NULL,
    target     TEXT        NOT NULL,
    fields     TEXT        NOT NULL,
    masked     BOOLEAN     NOT NULL,
    reason     TEXT        NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- When an operator last lifted a user's lockout: failures before it do
-- not count.
CREATE TABLE user_unlocks (
    user_id     TEXT        NOT NULL PRIMARY KEY,
    unlocked_at TIMESTAMPTZ NOT NULL
);

-- Paid provider calls per provider and day (China Standard Time).
CREATE TABLE provider_budget (
    provider TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    calls    INTEGER NOT NULL,
    PRIMARY KEY (provider, day)
);
