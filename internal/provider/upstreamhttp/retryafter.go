package upstreamhttp

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps the wait an upstream can ask for. The wait is provider-wide, so a huge or
// mistaken value would freeze every user of the provider; a capped wait is simply asked again.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header in either form RFC 9110 allows: delta-seconds or an
// HTTP-date, measured from now. Absent, invalid or past values give 0 (no explicit wait).
func ParseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if isDigits(value) {
		seconds, err := strconv.ParseInt(value, 10, 64)
		if err != nil || seconds > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter // only overflow fails once the text is all digits
		}
		return time.Duration(seconds) * time.Second
	}
	date, err := http.ParseTime(value)
	if err != nil {
		return 0
	}
	wait := date.Sub(now)
	switch {
	case wait <= 0:
		return 0
	case wait > MaxRetryAfter:
		return MaxRetryAfter
	default:
		return wait
	}
}

// isDigits reports whether s is 1*DIGIT; strconv alone would also accept a sign.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
