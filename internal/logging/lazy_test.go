package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func newLogger(buf *bytes.Buffer) logr.Logger {
	return Lazy(zap.New(zap.WriteTo(buf), zap.UseDevMode(false), zap.RawZapOpts(uberzap.AddCaller())))
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// A line carries every pair given with WithValues, from every ancestor, and the logger's names.
func TestLazyLinesCarryEveryPairAndName(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf).WithName("orguser").WithValues("controller", "orguser").
		WithValues("OrgUser", "team-a/alice").WithName("sync")
	log.Info("Status updated", "role", "Admin")
	log.Error(nil, "Lookup failed", "reason", "Unauthorized")

	got := lines(t, &buf)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(got), buf.String())
	}
	for _, line := range got {
		if line["logger"] != "orguser.sync" || line["controller"] != "orguser" || line["OrgUser"] != "team-a/alice" {
			t.Errorf("line %v lacks the logger's names or pairs", line)
		}
	}
	if got[0]["role"] != "Admin" || got[1]["reason"] != "Unauthorized" {
		t.Errorf("lines %v lack their own pairs", got)
	}
}

// Loggers derived from one parent keep their own pairs: an append to one is not seen by its sibling.
func TestLazySiblingsDoNotShareValues(t *testing.T) {
	var buf bytes.Buffer
	parent := newLogger(&buf).WithValues("a", 1)
	first := parent.WithValues("b", 2)
	second := parent.WithValues("c", 3)
	first.Info("first")
	second.Info("second")
	got := lines(t, &buf)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2", len(got))
	}
	if _, ok := got[1]["b"]; ok {
		t.Errorf("second logger's line %v carries its sibling's pair", got[1])
	}
	if got[0]["b"] != float64(2) || got[1]["c"] != float64(3) {
		t.Errorf("lines %v lack their own pairs", got)
	}
}

// A line at a level that is not enabled writes nothing, and the source location is the caller's.
func TestLazyKeepsLevelsAndCaller(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf).WithValues("k", "v")
	log.V(3).Info("not written")
	if buf.Len() != 0 {
		t.Fatalf("a V(3) line was written at the default level: %s", buf.String())
	}
	log.Info("written")
	got := lines(t, &buf)
	if len(got) != 1 {
		t.Fatalf("%d lines, want 1", len(got))
	}
	if caller, _ := got[0]["caller"].(string); !strings.Contains(caller, "lazy_test.go") {
		t.Errorf("caller %q, want this test file", caller)
	}
}
