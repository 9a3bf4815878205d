package outage

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgsync/orgsync/test/envsuite"
)

// manager is one manager process.
type manager struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// exited is closed when the process has ended; err is then its wait error.
	exited chan struct{}
	err    error
}

// startManager runs the manager binary with the common flags and extra ones; it is killed when the
// test ends, and its log is printed if the test failed.
func startManager(t *testing.T, name string, extra ...string) *manager {
	t.Helper()
	logPath := filepath.Join(workDir, t.Name()+"-"+name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(logPath) //nolint:gosec // a file in the test's own directory
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(managerBin, append(append([]string{}, managerArgs...), extra...)...) //nolint:gosec // our own binary
	cmd.Env = append(os.Environ(), "KUBECONFIG="+managerKubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		t.Fatalf("start manager %s: %v", name, err)
	}
	m := &manager{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		_ = logFile.Close()
		close(m.exited)
	}()
	t.Cleanup(func() {
		m.kill(t)
		if t.Failed() || os.Getenv("ORGSYNC_TEST_VERBOSE") != "" {
			t.Logf("manager %s log (last lines):\n%s", name, m.logTail(60))
		}
	})
	return m
}

// kill sends SIGKILL, as the kubelet does when a container is killed or its node dies, and waits
// for the process to end.
func (m *manager) kill(t *testing.T) {
	t.Helper()
	if m.running() {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("manager %s did not end within 30s of SIGKILL", m.name)
	}
}

func (m *manager) running() bool {
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

// requireRunning fails the test when the process ended: a manager is expected to ride out the
// failure it was subjected to, not to be restarted.
func (m *manager) requireRunning(t *testing.T) {
	t.Helper()
	if !m.running() {
		t.Fatalf("manager %s exited (%v); it should have recovered without a restart. Log:\n%s", m.name, m.err, m.logTail(60))
	}
}

// waitForLog waits until the manager's log contains text.
func (m *manager) waitForLog(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	envsuite.Eventually(t, timeout, func() error {
		if !m.running() {
			return fmt.Errorf("manager %s exited (%v)", m.name, m.err)
		}
		data, err := os.ReadFile(m.logPath)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, []byte(text)) {
			return fmt.Errorf("manager %s has not logged %q yet", m.name, text)
		}
		return nil
	})
}

func (m *manager) logTail(lines int) string {
	data, err := os.ReadFile(m.logPath)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
