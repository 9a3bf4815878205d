package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameBase is how much of the key an OrgUser name keeps: with "-" and eight hex digits the name
// stays within 63 characters, a DNS label.
const maxNameBase = 54

// OrgUserName is the name of the OrgUser a directory keeps for key, as the contract spells it: the
// key lowercased, every run of characters outside [a-z0-9] turned into one "-", cut to 54
// characters, trimmed of "-" at both ends ("user" when nothing is left), then "-" and the first 8
// hex digits of the SHA-256 of the exact key. The digest tells apart keys that read alike
// ("Alice.Smith" and "alice-smith").
func OrgUserName(key string) string {
	var base strings.Builder
	inRun := false
	for _, r := range strings.ToLower(key) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			base.WriteRune(r)
			inRun = false
			continue
		}
		if !inRun {
			base.WriteByte('-')
			inRun = true
		}
	}
	name := base.String()
	if len(name) > maxNameBase {
		name = name[:maxNameBase] // only ASCII is left, so any cut is on a character boundary
	}
	name = strings.Trim(name, "-")
	if name == "" {
		name = "user"
	}
	sum := sha256.Sum256([]byte(key))
	return name + "-" + hex.EncodeToString(sum[:])[:8]
}
