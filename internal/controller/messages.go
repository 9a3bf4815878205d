package controller

import "github.com/orgsync/orgsync/internal/provider"

// maxConditionMessageLength is the contract's cap on condition messages. Messages carry upstream
// text, which the provider clients already shorten; this cap holds whatever a message is built from.
const maxConditionMessageLength = 1024

// truncationMark ends a message that was cut, so a reader knows there was more.
const truncationMark = "..."

// boundedMessage cuts msg to maxConditionMessageLength bytes (and so characters), on a UTF-8
// boundary.
func boundedMessage(msg string) string {
	if len(msg) <= maxConditionMessageLength {
		return msg
	}
	return provider.TruncateUTF8(msg, maxConditionMessageLength-len(truncationMark)) + truncationMark
}
