package realname

// ProviderManual is the Provider of a manual review's session.
const ProviderManual = "manual"

// Who acts, in an AuditEntry.
const (
	ActorPerson   = "person"   // the person, with their user token
	ActorOperator = "operator" // an operator of this service (admin API or CLI)
	ActorPlatform = "platform" // a platform, with its API key
	ActorSystem   = "system"   // a job of the service itself (retention)
)

// The personal data fields an AuditEntry names.
const (
	FieldName      = "name"
	FieldIDNumber  = "id_number"
	FieldDocuments = "documents"
	FieldFace      = "face"
)
