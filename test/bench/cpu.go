package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every Linux the bench runs on.
const clockTicks = 100

// cpuTimes is the CPU seconds used so far by the bench and by each program it started, by program name.
func cpuTimes() map[string]float64 {
	times := map[string]float64{}
	self := os.Getpid()
	if _, cpu, ok := readStat(self); ok {
		times["bench"] = cpu
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || pid == self {
			continue
		}
		data, err := os.ReadFile(path) //nolint:gosec // /proc
		if err != nil {
			continue
		}
		name, fields, ok := splitStat(string(data))
		if !ok || len(fields) < 12 || fields[1] != strconv.Itoa(self) {
			continue
		}
		times[name] += ticksToSeconds(fields[11], fields[12])
	}
	return times
}

// readStat returns the command name and CPU seconds of one process.
func readStat(pid int) (string, float64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, false
	}
	name, fields, ok := splitStat(string(data))
	if !ok || len(fields) < 13 {
		return "", 0, false
	}
	return name, ticksToSeconds(fields[11], fields[12]), true
}

// splitStat splits "pid (comm) state ppid ... utime stime ..." into comm and the fields after it
// (state is fields[0], ppid fields[1], utime fields[11], stime fields[12]).
func splitStat(stat string) (string, []string, bool) {
	open, closing := strings.Index(stat, "("), strings.LastIndex(stat, ")")
	if open < 0 || closing < open {
		return "", nil, false
	}
	return stat[open+1 : closing], strings.Fields(stat[closing+1:]), true
}

func ticksToSeconds(utime, stime string) float64 {
	u, _ := strconv.ParseFloat(utime, 64)
	s, _ := strconv.ParseFloat(stime, 64)
	return (u + s) / clockTicks
}

// cpuDelta renders the CPU seconds each program used between two cpuTimes readings, busiest first.
func cpuDelta(before, after map[string]float64) string {
	type use struct {
		name    string
		seconds float64
	}
	var uses []use
	for name, seconds := range after {
		if d := seconds - before[name]; d >= 0.5 {
			uses = append(uses, use{name, d})
		}
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].seconds > uses[j].seconds })
	parts := make([]string, 0, len(uses))
	for _, u := range uses {
		parts = append(parts, fmt.Sprintf("%s %.0f s", u.name, u.seconds))
	}
	return strings.Join(parts, ", ")
}
