package v1alpha1

// Condition types.
const (
	// ConditionReady: OrgUser — the mirror is usable; providers — config valid and the Secret resolves.
	ConditionReady = "Ready"
	// ConditionSynced: whether the most recent upstream call succeeded.
	ConditionSynced = "Synced"
	// ConditionStalled: a terminal problem that retrying alone will not fix (kstatus convention).
	ConditionStalled = "Stalled"
)

// Condition reasons. The names are part of the API contract.
const (
	ReasonSynced              = "Synced"
	ReasonUserNotFound        = "UserNotFound"
	ReasonUnauthorized        = "Unauthorized"
	ReasonForbidden           = "Forbidden"
	ReasonInvalidKey          = "InvalidKey"
	ReasonAmbiguousKey        = "AmbiguousKey"
	ReasonProviderNotFound    = "ProviderNotFound"
	ReasonProviderNotAllowed  = "ProviderNotAllowed"
	ReasonProviderInvalid     = "ProviderInvalidConfig"
	ReasonSecretNotFound      = "SecretNotFound"
	ReasonProviderUnavailable = "ProviderUnavailable"
	ReasonStale               = "Stale"

	// Provider reasons.
	ReasonValid            = "Valid"
	ReasonInvalidConfig    = "InvalidConfig"
	ReasonSecretKeyMissing = "SecretKeyMissing"
)
