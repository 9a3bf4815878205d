package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options are the command-line flags.
type options struct {
	users     int
	smoke     bool
	scenarios string
	assets    string
	workDir   string
}

// config is every size and duration of a run. The full run follows issue 6 to the letter; the smoke
// run shrinks sizes and intervals so the whole program runs in a few minutes, keeping each scenario's
// shape.
type config struct {
	smoke     bool
	scenarios map[int]bool
	assets    string
	workDir   string
	repoRoot  string

	// users is the main population, half Mixpeek and half Flashback, in namespace benchNamespace.
	users int
	// latency is the simulator's per-request latency in every scenario.
	latency time.Duration
	// interval is the refreshInterval of the steady-state scenarios (3 to 7).
	interval time.Duration
	// secretPoll is the manager's --secret-poll-interval.
	secretPoll time.Duration

	// Scenario 1: each provider's client-side rateLimit, and the simulator's limit per token.
	limitedRPS    int
	simTokenRPS   float64
	simTokenBurst int

	// Scenario 3 measures steadyIntervals intervals after steadySettle.
	steadySettle    time.Duration
	steadyIntervals int

	// Scenario 4.
	sharedUsers, sharedNamespaces, sharedKeys int

	// Scenario 5: how long the 5xx share lasts and how large it is. 1.5 intervals: a user read up to
	// one interval (plus 10 % jitter) before the fault gets at least one try during it and is read
	// again within 3 intervals of its last success, so zero Stale is exact; a 2-interval fault could
	// honestly leave a user read 1.1 intervals before it without a success for 3 intervals.
	faultDuration time.Duration
	faultShare    float64

	// Scenario 6: how long one provider is blackholed.
	blackholeDuration time.Duration

	// Scenario 7: the window after the takeover whose calls are compared with the steady rate, and
	// the share of transient errors injected in it (a standby's staleness clock only shows on a
	// failed call).
	failoverWindow     time.Duration
	failoverFaultShare float64

	// Scenario 8: unrelated Secrets in the cluster and their size.
	unrelatedSecrets int
	secretBytes      int

	// Scenario 9: OrgUsers on a SCIM OrgProvider, and as many on a fresh Mixpeek OrgProvider.
	scimUsers int

	// Scenario 11: one OrgDirectory over `users` SCIM users, listed directoryPageSize users a page
	// every directoryInterval (also its provider's refreshInterval); the steady state is measured
	// over directoryListings listings.
	directoryPageSize int
	directoryInterval time.Duration
	directoryListings int
}

func newConfig(opts options) (config, error) {
	cfg := config{
		smoke: opts.smoke, assets: opts.assets, workDir: opts.workDir,
		users: 10000, latency: 20 * time.Millisecond, interval: 60 * time.Second, secretPoll: 30 * time.Second,
		limitedRPS: 50, simTokenRPS: 60, simTokenBurst: 60,
		steadySettle: 15 * time.Second, steadyIntervals: 2,
		sharedUsers: 2000, sharedNamespaces: 20, sharedKeys: 50,
		faultDuration: 90 * time.Second, faultShare: 0.5,
		blackholeDuration: 2 * time.Minute,
		failoverWindow:    time.Minute, failoverFaultShare: 0.05,
		unrelatedSecrets: 10000, secretBytes: 10 * 1024,
		scimUsers:         2000,
		directoryPageSize: 100, directoryInterval: time.Minute, directoryListings: 2,
	}
	if opts.smoke {
		cfg.users = 100
		cfg.interval = 10 * time.Second // the CEL minimum
		cfg.secretPoll = 5 * time.Second
		// Floor = 50 users / 5 rps = 10 s, long enough to tell a limit from noise.
		cfg.limitedRPS, cfg.simTokenRPS, cfg.simTokenBurst = 5, 6, 6
		cfg.steadySettle, cfg.steadyIntervals = 3*time.Second, 2
		cfg.sharedUsers, cfg.sharedNamespaces, cfg.sharedKeys = 40, 4, 10
		cfg.faultDuration = 3 * cfg.interval / 2
		cfg.blackholeDuration = 2 * cfg.interval
		cfg.failoverWindow = 2 * cfg.interval
		cfg.unrelatedSecrets = 100
		cfg.scimUsers = 100
		// listInterval's CEL minimum is 1m, so the smoke run measures one listing instead of two; 10
		// users a page keep a listing of several pages (100 a page would be one).
		cfg.directoryPageSize, cfg.directoryListings = 10, 1
	}
	if opts.users > 0 {
		cfg.users = opts.users
	}
	if cfg.users < 2 || cfg.users%2 != 0 {
		return cfg, fmt.Errorf("-users must be an even number of at least 2, got %d", cfg.users)
	}
	if cfg.assets == "" {
		return cfg, fmt.Errorf("-assets (or KUBEBUILDER_ASSETS) must name the directory with kube-apiserver and etcd; run 'make k8s-binaries'")
	}
	var err error
	if cfg.assets, err = filepath.Abs(cfg.assets); err != nil {
		return cfg, err
	}
	if cfg.scenarios, err = parseScenarios(opts.scenarios); err != nil {
		return cfg, err
	}
	if cfg.repoRoot, err = findRepoRoot(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// lastScenario is the highest scenario number.
const lastScenario = 11

func parseScenarios(list string) (map[int]bool, error) {
	selected := map[int]bool{}
	for field := range strings.SplitSeq(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		n, err := strconv.Atoi(field)
		if err != nil || n < 1 || n > lastScenario {
			return nil, fmt.Errorf("-scenarios: %q is not a scenario number 1..%d", field, lastScenario)
		}
		selected[n] = true
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("-scenarios selects nothing")
	}
	return selected, nil
}

// findRepoRoot walks up from the working directory to go.mod, so the bench runs alike from the
// repository root (go run) and from test/bench (go test).
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// perProvider is the number of main-population users of each provider.
func (c config) perProvider() int { return c.users / 2 }

// needsMain reports whether a selected scenario uses the main population; scenarios 9 and 11 bring
// their own.
func (c config) needsMain() bool {
	for n := range c.scenarios {
		if n != 9 && n != 11 {
			return true
		}
	}
	return false
}

// bulkUsers is how many users of each provider the simulator seeds (SeedBulk): the main
// population's, then scenario 9's Mixpeek users, and at least scenario 11's SCIM organization.
func (c config) bulkUsers() int {
	n := c.perProvider() + c.scimUsers
	if c.scenarios[11] {
		n = max(n, c.users)
	}
	return n
}
