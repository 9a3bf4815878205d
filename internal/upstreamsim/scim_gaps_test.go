package upstreamsim

import (
	"net/http"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	scimfilter "github.com/scim2/filter-parser/v2"
)

// These tests pin the gaps of github.com/elimity-com/scim that the simulator works around. If one
// starts failing, the library changed and the workaround may be dropped.

func libraryValidator(t *testing.T, expression string) filter.Validator {
	t.Helper()
	userSchema := schema.CoreUserSchema()
	userSchema.Attributes = append(userSchema.Attributes, schema.CommonAttributes()...)
	validator, err := filter.NewValidator(expression, userSchema, schema.ExtensionEnterpriseUser())
	if err != nil {
		t.Fatal(err)
	}
	if err := validator.Validate(); err != nil {
		t.Fatal(err)
	}
	return validator
}

func TestLibraryGapHandler429ComesOutAs500(t *testing.T) {
	// What the library does with a 429 a handler returns for a GET.
	answered := scimerrors.CheckScimError(scimerrors.ScimError{Status: http.StatusTooManyRequests}, http.MethodGet)
	if answered.Status != http.StatusInternalServerError {
		t.Fatalf("library answers a handler's 429 with %d; the gap is fixed, the middleware may hand 429 to it", answered.Status)
	}

	// So the simulator answers 429 itself, in front of the library.
	s := startServer(t)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "a@example.com"})
	client := trustingClient(t, s)
	s.SetTokenRateLimit(0.5, 1)
	wantStatus(t, get(t, client, s, scimFilterPath(t, "userName", "a@example.com"), testToken), http.StatusOK)
	got := get(t, client, s, scimFilterPath(t, "userName", "a@example.com"), testToken)
	wantSCIMError(t, got, http.StatusTooManyRequests, "")
	if ra := got.header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After = %q, want 2", ra)
	}
	if n := s.RateLimited(); n != 1 {
		t.Errorf("RateLimited() = %d, want 1", n)
	}
}

func TestLibraryGapFilterValuesKeepTheirEscapes(t *testing.T) {
	// The library compares the text between the quotes as written: `"a\"b"` only matches the
	// userName a\"b (with a backslash), never a"b, which is what the client meant.
	validator := libraryValidator(t, `userName eq "a\"b"`)
	if validator.PassesFilter(map[string]any{"userName": `a"b`}) == nil {
		t.Fatal(`library now matches a"b: the gap is fixed, decodeFilterString may be redundant`)
	}
	if validator.PassesFilter(map[string]any{"userName": `a\"b`}) != nil {
		t.Fatal(`library no longer matches the undecoded a\"b; the premise of this test changed`)
	}

	// The simulator decodes: the same filter finds a"b and not the undecoded decoy.
	s := startServer(t)
	s.PutSCIMUser(SCIMUser{ID: "meant", UserName: `a"b`})
	s.PutSCIMUser(SCIMUser{ID: "undecoded", UserName: `a\"b`})
	list := decodeSCIMList(t, get(t, trustingClient(t, s), s, scimRawFilterPath(`userName eq "a\"b"`), testToken))
	if len(list.resources) != 1 || list.resources[0]["id"] != "meant" {
		t.Errorf(`found %v, want only the user a"b`, scimUserNames(list))
	}
}

func TestLibraryGapLowerCaseUnicodeEscapesAreRefused(t *testing.T) {
	if _, err := scimfilter.ParseFilter([]byte(`userName eq "\u003chtml\u003e"`)); err == nil {
		t.Fatal("the filter parser now accepts lower-case \\u escapes: normalizeUnicodeEscapes may go")
	}
	if _, err := scimfilter.ParseFilter([]byte(`userName eq "\u003Chtml\u003E"`)); err != nil {
		t.Fatalf("the filter parser refuses upper-case \\u escapes too: %v", err)
	}

	s := startServer(t)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "<html>"})
	list := decodeSCIMList(t, get(t, trustingClient(t, s), s, scimRawFilterPath(`userName eq "\u003chtml\u003e"`), testToken))
	if len(list.resources) != 1 {
		t.Errorf("found %v, want the user <html>", scimUserNames(list))
	}
}

func TestNormalizeUnicodeEscapesLeavesEscapedBackslashesAlone(t *testing.T) {
	for in, want := range map[string]string{
		`userName eq "\u00e9"`:     `userName eq "\u00E9"`,
		`userName eq "\\u00e9"`:    `userName eq "\\u00e9"`,
		`userName eq "\\\u00e9"`:   `userName eq "\\\u00E9"`,
		`userName eq "plain"`:      `userName eq "plain"`,
		`userName eq "short \u0e`:  `userName eq "short \u0e`,
		`userName eq "\"\u00ff\""`: `userName eq "\"\u00FF\""`,
	} {
		if got := normalizeUnicodeEscapes(in); got != want {
			t.Errorf("normalizeUnicodeEscapes(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestLibraryGapEmailsValueFilterFindsNothing(t *testing.T) {
	validator := libraryValidator(t, `emails.value eq "a@example.com"`)
	user := map[string]any{"emails": []any{map[string]any{"value": "a@example.com", "primary": true}}}
	if validator.PassesFilter(user) == nil {
		t.Fatal("library now matches emails.value: the simulator could support that filter")
	}

	// The simulator says so instead of answering an empty list.
	s := startServer(t)
	s.PutSCIMUser(SCIMUser{ID: "id-1", UserName: "a", Emails: []SCIMEmail{{Value: "a@example.com", Primary: true}}})
	got := get(t, trustingClient(t, s), s, scimRawFilterPath(`emails.value eq "a@example.com"`), testToken)
	wantSCIMError(t, got, http.StatusBadRequest, "invalidFilter")
}
