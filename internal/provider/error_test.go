package provider

import "testing"

func TestErrorNamesItsOperation(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Provider: "scim", Kind: KindTransient, StatusCode: 500, Message: "boom"}, "get user from scim: 500 Internal Server Error: boom"},
		{&Error{Provider: "scim", Op: OpListUsers, Kind: KindTransient, StatusCode: 500, Message: "boom"},
			"list users from scim: 500 Internal Server Error: boom"},
		{&Error{Provider: "scim", Op: OpListUsers, Kind: KindRateLimited}, "list users from scim: RateLimited"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
