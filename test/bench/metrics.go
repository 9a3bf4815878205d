package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// metricsText is a Prometheus text exposition. The bench needs sums of a few counters, so it reads
// the lines it needs rather than decoding the API server's several megabytes into metric families.
type metricsText string

// sum adds the samples of metric whose labels include every pair of match (a value list means
// any of them). Histogram and summary series (_bucket, _sum, _count) are separate names.
func (m metricsText) sum(metric string, match map[string][]string) float64 {
	total := 0.0
	for line := range strings.SplitSeq(string(m), "\n") {
		if !strings.HasPrefix(line, metric) {
			continue
		}
		rest := line[len(metric):]
		var labels map[string]string
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				continue
			}
			labels = parseLabels(rest[1:end])
			rest = rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue // a longer metric name with this prefix
		}
		if !labelsMatch(labels, match) {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[0], 64); err == nil && !math.IsNaN(v) {
			total += v
		}
	}
	return total
}

func labelsMatch(labels map[string]string, match map[string][]string) bool {
	for name, values := range match {
		found := false
		for _, v := range values {
			if labels[name] == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parseLabels reads `a="x",b="y\"z"`.
func parseLabels(text string) map[string]string {
	labels := map[string]string{}
	for len(text) > 0 {
		eq := strings.Index(text, "=")
		if eq < 0 || eq+1 >= len(text) || text[eq+1] != '"' {
			return labels
		}
		name := strings.TrimLeft(text[:eq], ", ")
		var value strings.Builder
		i := eq + 2
		for ; i < len(text) && text[i] != '"'; i++ {
			if text[i] == '\\' && i+1 < len(text) {
				i++
				switch text[i] {
				case 'n':
					value.WriteByte('\n')
				default:
					value.WriteByte(text[i])
				}
				continue
			}
			value.WriteByte(text[i])
		}
		labels[name] = value.String()
		if i+1 >= len(text) {
			break
		}
		text = text[i+1:]
	}
	return labels
}

// has reports whether the exposition has any sample of metric, so the table can tell a zero from a
// metric this build of the manager does not export.
func (m metricsText) has(metric string) bool {
	return strings.Contains(string(m), "\n"+metric+"{") || strings.Contains(string(m), "\n"+metric+" ")
}

// apiServerMetrics reads the kube-apiserver's own /metrics.
func (e *env) apiServerMetrics(ctx context.Context) (metricsText, error) {
	body, err := e.clientset.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("read kube-apiserver /metrics: %w", err)
	}
	return metricsText(body), nil
}

// apiCounts are the API server's request counters the targets are about.
type apiCounts struct {
	secretGets   float64
	statusWrites float64 // OrgUser status PATCH, UPDATE and APPLY (server-side apply)
	objectWrites float64 // OrgUser PATCH, UPDATE and APPLY of the object itself (labels)
}

func (e *env) apiCounts(ctx context.Context) (apiCounts, error) {
	m, err := e.apiServerMetrics(ctx)
	if err != nil {
		return apiCounts{}, err
	}
	requests := func(resource, subresource string, verbs ...string) float64 {
		return m.sum("apiserver_request_total", map[string][]string{
			"resource": {resource}, "subresource": {subresource}, "verb": verbs})
	}
	// The API server counts a server-side apply as verb APPLY, not PATCH.
	return apiCounts{
		secretGets:   requests("secrets", "", "GET"),
		statusWrites: requests("orgusers", "status", "PATCH", "UPDATE", "APPLY"),
		objectWrites: requests("orgusers", "", "PATCH", "UPDATE", "APPLY"),
	}, nil
}

func (a apiCounts) minus(b apiCounts) apiCounts {
	return apiCounts{secretGets: a.secretGets - b.secretGets, statusWrites: a.statusWrites - b.statusWrites,
		objectWrites: a.objectWrites - b.objectWrites}
}
