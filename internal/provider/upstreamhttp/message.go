package upstreamhttp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMessageBytes bounds the upstream text carried into errors, and from there into conditions and
// events: enough for a sentence, too little for an HTML error page.
const maxMessageBytes = 200

// redactedPlaceholder replaces the token wherever an upstream echoes it back.
const redactedPlaceholder = "[REDACTED]"

// sanitizeMessage makes upstream text safe to show: valid UTF-8, one line without control or
// invisible format characters, the token removed, and at most maxMessageBytes long.
func sanitizeMessage(text, token string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsGraphic(r):
			return -1 // control characters, bidi overrides, zero-width characters
		default:
			return r
		}
	}, text)
	text = strings.Join(strings.Fields(text), " ")
	// Redact after cleaning, so characters dropped above cannot hide the token, and before
	// truncating, so a cut cannot leave a prefix of it behind.
	text = redactSecret(text, token)
	return truncateUTF8(text, maxMessageBytes)
}

func redactSecret(text, secret string) string {
	if secret == "" {
		return text
	}
	return strings.ReplaceAll(text, secret, redactedPlaceholder)
}

// truncateUTF8 cuts text to at most limit bytes plus "...", never inside a rune.
func truncateUTF8(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "..."
}
