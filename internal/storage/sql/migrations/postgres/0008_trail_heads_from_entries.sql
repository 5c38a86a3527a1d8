-- A subject's head (its newest entry's seq and leaf hash) is read from
-- trail_entries through its (subject, seq) index, so the sequencer no
-- longer keeps a copy of it up to date with an upsert per subject in every
-- batch. The entries hold everything the table held.
DROP TABLE trail_heads;
