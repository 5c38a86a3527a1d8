-- Receipts: the newest trail entry about a session (its certify id is the
-- entry's ref) is found without a scan.
CREATE INDEX trail_entries_ref ON trail_entries (ref, idx) WHERE ref <> '';
