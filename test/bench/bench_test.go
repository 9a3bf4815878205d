package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSmoke runs every scenario once with 100 OrgUsers (make bench-smoke), as part of make
// test: the harness must measure every scenario end to end. Its MISSes are figures, not failures.
func TestBenchSmoke(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the bench smoke test with 'make test', which builds the API server binaries")
	}
	var out bytes.Buffer
	workDir := t.TempDir()
	results, err := run(t.Context(), options{smoke: true, scenarios: "1,2,3,4,5,6,7,8,9,10,11", assets: assets, workDir: workDir}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		logTails(t, workDir)
		t.Fatalf("bench harness failed: %v", err)
	}
	for _, scenario := range []string{"1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ", "9 ", "10 ", "11 "} {
		measured := 0
		for _, r := range results.rows {
			if strings.HasPrefix(r.scenario, scenario) && (r.result == pass || r.result == miss) {
				measured++
			}
		}
		if measured == 0 {
			t.Errorf("scenario %s measured no target", strings.TrimSpace(scenario))
		}
	}
}

// logTails shows the end of each process log, which is where a harness failure is explained.
func logTails(t *testing.T, workDir string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(workDir, "*.log"))
	for _, path := range logs {
		text := readFile(path)
		if len(text) > 4000 {
			text = text[len(text)-4000:]
		}
		t.Logf("--- %s (tail)\n%s", filepath.Base(path), text)
	}
}
