package upstreamhttp

import (
	"encoding/json"
	"testing"
)

func TestOptionalStringKeepsRawValue(t *testing.T) {
	tests := []struct {
		json         string // the value of "f", or "" for absent
		wantValue    string
		wantIsString bool
		wantSet      bool
		wantRaw      string
	}{
		{``, "", false, false, ""},
		{`null`, "", false, false, ""},
		{`"admin"`, "admin", true, true, "admin"},
		{`""`, "", true, true, ""},
		{`"0x03"`, "0x03", true, true, "0x03"},
		{`"a\"b\u00e9"`, "a\"bé", true, true, "a\"bé"},
		{`7`, "", false, true, "7"},
		{`-1`, "", false, true, "-1"},
		{`2.5`, "", false, true, "2.5"},
		{`1e2`, "", false, true, "1e2"},
		{`true`, "", false, true, "true"},
		{`{ "a" : 1 }`, "", false, true, `{"a":1}`},
		{`[ 1, "x <y>" ]`, "", false, true, `[1,"x <y>"]`},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			body := `{}`
			if tt.json != "" {
				body = `{"f": ` + tt.json + ` }`
			}
			var out struct {
				F OptionalString `json:"f"`
			}
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatalf("Unmarshal(%s): %v", body, err)
			}
			got := out.F
			if got.Value != tt.wantValue || got.IsString != tt.wantIsString || got.Set != tt.wantSet || got.Raw != tt.wantRaw {
				t.Errorf("got %+v, want Value=%q IsString=%v Set=%v Raw=%q", got, tt.wantValue, tt.wantIsString, tt.wantSet, tt.wantRaw)
			}
		})
	}
}

func TestRawText(t *testing.T) {
	for in, want := range map[string]string{
		`null`:          "",
		` null `:        "",
		`"x"`:           "x",
		`""`:            "",
		`0`:             "0",
		`-1`:            "-1",
		`{"a": [1, 2]}`: `{"a":[1,2]}`,
		`false`:         "false",
	} {
		if got := RawText([]byte(in)); got != want {
			t.Errorf("RawText(%s) = %q, want %q", in, got, want)
		}
	}
}
