-- The trail (internal/trail): a tamper-evident append-only Merkle log.
-- Written only by trail.Log through Store.Sequence, except trail_outbox,
-- where any transaction of the service may queue an event.

-- One row per entry; idx is the entry's index in the log (0, 1, …).
-- hashes are the tree's stored hashes that appending the entry wrote
-- (tlog.StoredHashes: its leaf hash, then the hash of each subtree it
-- completed, 32 bytes each), so a stored hash is found in the row of the
-- entry that completed its subtree, with no table of its own.
-- subject is '' for entries about the log itself; seq is then 0.
CREATE TABLE trail_entries (
    idx     BIGINT NOT NULL PRIMARY KEY,
    data    BYTEA  NOT NULL,
    hash    BYTEA  NOT NULL,
    hashes  BYTEA  NOT NULL,
    kind    TEXT   NOT NULL,
    subject TEXT   NOT NULL,
    seq     BIGINT NOT NULL,
    ref     TEXT   NOT NULL
);
CREATE UNIQUE INDEX trail_entries_subject ON trail_entries (subject, seq) WHERE subject <> '';

-- The newest entry of each subject: its sequence number and leaf hash.
CREATE TABLE trail_heads (
    subject TEXT   NOT NULL PRIMARY KEY,
    seq     BIGINT NOT NULL,
    hash    BYTEA  NOT NULL
);

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE trail_checkpoints (
    size       BIGINT      NOT NULL PRIMARY KEY,
    note       BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Events queued by other transactions (trail.EncodeOutbox), appended and
-- deleted by the sequencer.
CREATE TABLE trail_outbox (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event      BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
