package main

import (
	"slices"
	"testing"
	"time"
)

func TestMetricsSumAddsOnlyMatchingSeries(t *testing.T) {
	text := metricsText(`# HELP apiserver_request_total Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="secrets",scope="resource",verb="GET"} 7
apiserver_request_total{code="404",resource="secrets",scope="resource",verb="GET"} 2
apiserver_request_total{code="201",resource="secrets",scope="resource",verb="POST"} 100
apiserver_request_total{code="200",resource="orgusers",subresource="status",verb="PATCH"} 3
apiserver_request_total{code="200",resource="orgusers",subresource="status",verb="UPDATE"} 1.5e+01
apiserver_request_total{code="200",resource="orgusers",verb="PATCH"} 40
apiserver_request_total{code="201",resource="orgusers",scope="resource",verb="APPLY"} 7
apiserver_request_total_extra{resource="secrets",verb="GET"} 1000
leader_election_master_status{name="orgsync.identity.orgsync.io"} 1
odd_label{msg="a \"quoted\", comma",verb="GET"} 5
`)
	cases := []struct {
		metric string
		match  map[string][]string
		want   float64
	}{
		{"apiserver_request_total", map[string][]string{"resource": {"secrets"}, "verb": {"GET"}}, 9},
		{"apiserver_request_total", map[string][]string{"resource": {"orgusers"}, "subresource": {"status"}, "verb": {"PATCH", "UPDATE"}}, 18},
		{"apiserver_request_total", map[string][]string{"resource": {"orgusers"}, "subresource": {""}, "verb": {"PATCH"}}, 40},
		{"apiserver_request_total", map[string][]string{"resource": {"orgusers"}, "subresource": {""}, "verb": {"PATCH", "UPDATE", "APPLY"}}, 47},
		{"leader_election_master_status", nil, 1},
		{"odd_label", map[string][]string{"msg": {`a "quoted", comma`}, "verb": {"GET"}}, 5},
		{"absent_metric", nil, 0},
	}
	for _, c := range cases {
		if got := text.sum(c.metric, c.match); got != c.want {
			t.Errorf("sum(%s, %v) = %v, want %v", c.metric, c.match, got, c.want)
		}
	}
	if !text.has("leader_election_master_status") || text.has("orgsync_lookups_collapsed_total") {
		t.Error("has() does not tell exported metrics from absent ones")
	}
}

func TestBusiestWindowFindsTheBurst(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &sampler{}
	total := 0
	// 60 s at 10 calls per second, with a burst of 200 extra calls in second 30.
	for i := range 61 {
		// Each sample is late by up to 300 ms, as the scheduler makes it; the first one the most.
		late := time.Duration((i*7919)%300) * time.Millisecond
		if i == 0 {
			late = 300 * time.Millisecond
		}
		s.samples = append(s.samples, callSample{at: start.Add(time.Duration(i)*time.Second + late), mixpeek: total})
		total += 10
		if i == 30 {
			total += 200
		}
	}
	peak, mean := s.busiest(start, start.Add(time.Minute+time.Second), 10*time.Second)
	if peak != 300 {
		t.Errorf("busiest 10 s = %d calls, want 300 (100 steady + the 200 burst)", peak)
	}
	if want := float64(800) / 60 * 10; mean < want*0.99 || mean > want*1.01 {
		t.Errorf("mean per 10 s = %.2f, want %.2f", mean, want)
	}
}

func TestSeriesCountsEachWindow(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &sampler{}
	total := 0
	for i := range 31 {
		s.samples = append(s.samples, callSample{at: start.Add(time.Duration(i) * time.Second), mixpeek: total})
		total += 10
		if i == 14 {
			total += 200
		}
	}
	got := s.series(start, start.Add(30*time.Second), 10*time.Second)
	if want := []int{100, 300, 100}; !slices.Equal(got, want) {
		t.Errorf("series = %v, want %v (the burst in the second window)", got, want)
	}
}
