package provider

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateUTF8(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"aé", 2, "a"},                 // é is two bytes: not split
		{"aé", 3, "aé"},                //
		{"日本語", 4, "日"},                // three-byte runes
		{"😀x", 3, ""},                  // a four-byte rune does not fit
		{"x😀", 4, "x"},                 //
		{"\xff\xfeab", 3, "\xff\xfea"}, // invalid input is cut by bytes and not made worse
	}
	for _, tt := range tests {
		if got := TruncateUTF8(tt.in, tt.limit); got != tt.want {
			t.Errorf("TruncateUTF8(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

func TestUserBoundedCutsEveryMirroredString(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // 1 MiB of two-byte characters
	u := User{ID: huge, Email: huge, DisplayName: huge, ProviderRole: huge, Role: RoleAdmin, State: StateActive}.Bounded()
	for name, tt := range map[string]struct {
		got   string
		limit int
	}{
		"ID":           {u.ID, MaxUserIDLength},
		"Email":        {u.Email, MaxEmailLength},
		"DisplayName":  {u.DisplayName, MaxDisplayNameLength},
		"ProviderRole": {u.ProviderRole, MaxProviderRoleLength},
	} {
		if len(tt.got) > tt.limit || len(tt.got) < tt.limit-utf8.UTFMax || !utf8.ValidString(tt.got) {
			t.Errorf("%s: %d bytes (valid UTF-8: %v), want valid UTF-8 of at most %d bytes, cut near the limit",
				name, len(tt.got), utf8.ValidString(tt.got), tt.limit)
		}
	}
	if u.Role != RoleAdmin || u.State != StateActive {
		t.Errorf("Bounded changed role or state: %s, %s", u.Role, u.State)
	}
	if got := (User{ProviderRole: "{\"a\":\"\xff\"}"}).Bounded().ProviderRole; got != "{\"a\":\"\uFFFD\"}" {
		t.Errorf("ProviderRole with invalid UTF-8 bounded to %q, want the bad byte replaced", got)
	}
	short := User{ID: "u1", Email: "a@b", DisplayName: "A", ProviderRole: "admin"}
	if got := short.Bounded(); got != short {
		t.Errorf("Bounded changed a short user: %+v", got)
	}
}
