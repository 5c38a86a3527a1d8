-- Finished sessions whose copy at the provider is not deleted yet, for the
-- poller that retries the deletion (PendingProviderDeletions). Cancelled
-- sessions have nothing to delete.
CREATE INDEX verifications_undeleted ON verifications (completed_at)
    WHERE result_deleted = FALSE AND provider_ref <> '' AND status <> 'cancelled';
