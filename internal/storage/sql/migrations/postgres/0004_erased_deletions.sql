-- Sessions cancelled by an erasure or a consent withdrawal may have a copy
-- at the provider (the face check was open): the poller retries their
-- deletion too. The condition is PendingProviderDeletions' literally.
DROP INDEX verifications_undeleted;
CREATE INDEX verifications_undeleted ON verifications (completed_at)
    WHERE result_deleted = FALSE AND provider_ref <> ''
    AND (status <> 'cancelled' OR fail_reason IN ('ERASED', 'CONSENT_WITHDRAWN'));
