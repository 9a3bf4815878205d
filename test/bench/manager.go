package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// binaries are the programs the bench runs as processes of their own.
type binaries struct {
	manager, baseline string
	// allowPrivate is set when the manager has an egress guard that refuses loopback without
	// --allow-private-addresses; the simulator listens on loopback.
	allowPrivate bool
}

func buildBinaries(ctx context.Context, cfg config) (binaries, error) {
	// Into the run's own directory: bin/ may be shared by several worktrees, whose runs would
	// otherwise start each other's builds.
	bins := binaries{
		manager:  filepath.Join(cfg.workDir, "manager"),
		baseline: filepath.Join(cfg.workDir, "baseline"),
	}
	for pkg, out := range map[string]string{"./cmd/main.go": bins.manager, "./test/bench/baseline": bins.baseline} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = cfg.repoRoot
		if text, err := cmd.CombinedOutput(); err != nil {
			return bins, fmt.Errorf("go build %s: %w\n%s", pkg, err, text)
		}
	}
	help, _ := exec.CommandContext(ctx, bins.manager, "--help").CombinedOutput()
	bins.allowPrivate = strings.Contains(string(help), "allow-private-addresses")
	return bins, nil
}

// process is one running program started by the bench, with its metrics endpoint when it has one.
type process struct {
	name       string
	cmd        *exec.Cmd
	metricsURL string
	// pprofURL is the manager's pprof endpoint (…/debug/pprof/), where the bench takes heap profiles.
	pprofURL string
	started  time.Time
	exited   chan struct{}
	exitErr  error
	// stopping is set before the bench ends the process, so its exit is not reported as a crash.
	stopping bool
	log      *os.File
}

// startManager runs the manager binary with leader election on and plain-HTTP metrics on a free
// loopback port; its log goes to <workDir>/<name>.log.
func startManager(e *env, bins binaries, name string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pprofPort, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--pprof-bind-address=127.0.0.1:" + strconv.Itoa(pprofPort),
		"--kubeconfig=" + e.kubeconfig,
		"--leader-elect",
		"--leader-election-namespace=" + systemNamespace,
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(port),
		"--metrics-secure=false",
		"--health-probe-bind-address=0",
		"--secret-poll-interval=" + e.cfg.secretPoll.String(),
	}
	if bins.allowPrivate {
		args = append(args, "--allow-private-addresses")
	}
	p, err := startProcess(e.cfg, name, bins.manager, args...)
	if err != nil {
		return nil, err
	}
	p.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	p.pprofURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", pprofPort)
	go p.profileAtPeak(e.cfg.workDir)
	return p, nil
}

func startProcess(cfg config, name, binary string, args ...string) (*process, error) {
	logFile, err := os.Create(filepath.Join(cfg.workDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...) //nolint:gosec // the bench's own binaries
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, started: time.Now(), exited: make(chan struct{}), log: logFile}
	go func() {
		p.exitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// alive reports an error when the process ended without the bench asking it to.
func (p *process) alive() error {
	select {
	case <-p.exited:
		if p.stopping {
			return nil
		}
		return fmt.Errorf("%s exited unexpectedly (%v); see %s", p.name, p.exitErr, p.log.Name())
	default:
		return nil
	}
}

// stop ends the process gracefully (SIGTERM), killing it if it takes longer than a minute.
func (p *process) stop() {
	p.signal(syscall.SIGTERM, time.Minute)
}

// kill ends the process like a crash: no chance to release its Lease.
func (p *process) kill() {
	p.signal(syscall.SIGKILL, time.Minute)
}

func (p *process) signal(sig syscall.Signal, grace time.Duration) {
	p.stopping = true
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// peakMemory is the process's peak resident set (VmHWM) in bytes, from /proc.
func (p *process) peakMemory() (int64, error) { return p.memoryField("VmHWM") }

// residentMemory is the process's resident set now (VmRSS) in bytes, from /proc.
func (p *process) residentMemory() (int64, error) { return p.memoryField("VmRSS") }

func (p *process) memoryField(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of %s: %w", p.name, err)
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		value, ok := strings.CutPrefix(scanner.Text(), field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s of %s: %w", field, p.name, err)
		}
		return kb * 1024, nil
	}
	if err := scanner.Err(); err != nil {
		return 0, fmt.Errorf("read memory of %s: %w", p.name, err)
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status of %s", field, p.cmd.Process.Pid, p.name)
}

// profileAtPeak takes a heap profile, without forcing a GC, each time the process's resident set
// passes its highest by more than 4 MiB, into <workDir>/<name>-maxrss.heap.pb.gz: the live heap as of
// the GC before the peak, which is what set the heap's size at the peak. It ends with the process.
func (p *process) profileAtPeak(workDir string) {
	const step = 4 * mib
	var highest int64
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			return
		case <-tick.C:
		}
		rss, err := p.residentMemory()
		if err != nil || float64(rss) < float64(highest)+step {
			continue
		}
		highest = rss
		_ = p.fetchHeapProfile(context.Background(), "heap",
			filepath.Join(workDir, fmt.Sprintf("%s-maxrss.heap.pb.gz", p.name)))
	}
}

// scrape reads the process's Prometheus metrics.
func (p *process) scrape(ctx context.Context) (metricsText, error) {
	if p.metricsURL == "" {
		return "", errors.New(p.name + " has no metrics endpoint")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("scrape %s: %w", p.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("scrape %s: %w", p.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("scrape %s: %s", p.name, resp.Status)
	}
	return metricsText(body), nil
}

// isLeader reads leader_election_master_status from the manager's metrics; a manager whose
// endpoint is not up yet is not the leader.
func (p *process) isLeader(ctx context.Context) bool {
	text, err := p.scrape(ctx)
	if err != nil {
		return false
	}
	return text.sum("leader_election_master_status", nil) >= 1
}

// waitLeader waits until p leads, and returns when that was observed.
func waitLeader(ctx context.Context, p *process, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if err := p.alive(); err != nil {
			return time.Time{}, err
		}
		if p.isLeader(ctx) {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s did not become leader within %s; see %s", p.name, timeout, p.log.Name())
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// saveHeapProfile writes the manager's heap profile (inuse and alloc samples, after a GC) to
// <workDir>/<name>-<label>.heap.pb.gz, for `go tool pprof`; "" when p has no pprof endpoint.
func (p *process) saveHeapProfile(ctx context.Context, workDir, label string) (string, error) {
	if p.pprofURL == "" {
		return "", nil
	}
	path := filepath.Join(workDir, p.name+"-"+label+".heap.pb.gz")
	return path, p.fetchHeapProfile(ctx, "heap?gc=1", path)
}

func (p *process) fetchHeapProfile(ctx context.Context, query, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.pprofURL+query, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("heap profile of %s: %w", p.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile of %s: %s", p.name, resp.Status)
	}
	f, err := os.Create(path) //nolint:gosec // the bench's own work directory
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
