package directory

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The digests were computed outside Go (Python's hashlib), so the test checks the contract's
// spelling rather than this implementation's.
func TestOrgUserName(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"Alice.Smith+ops@Example.com", "alice-smith-ops-example-com-dff8f0a8"},
		{"alice.smith+ops@example.com", "alice-smith-ops-example-com-45d42450"},
		{"---", "user-cb3f91d5"},
		{"Ünïcödé@例え.jp", "n-c-d-jp-f0606ff6"},
		{"  Bob  ", "bob-71aa61d5"},
		{strings.Repeat("x", 60), strings.Repeat("x", 54) + "-42f2d973"},
		{strings.Repeat("A", 70), strings.Repeat("a", 54) + "-01d3a187"},
		// The cut leaves a trailing "-", which is trimmed.
		{strings.Repeat("a", 53) + ".bcd", strings.Repeat("a", 53) + "-e11f3e41"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got := OrgUserName(tc.key)
			if got != tc.want {
				t.Errorf("OrgUserName(%q) = %q, want %q", tc.key, got, tc.want)
			}
			if problems := validation.IsDNS1123Label(got); len(problems) > 0 {
				t.Errorf("OrgUserName(%q) = %q is not a DNS label: %v", tc.key, got, problems)
			}
		})
	}
}
