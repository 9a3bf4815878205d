package main

import (
	"context"
	"sync"
	"time"

	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// callSample is the simulator's cumulative request counts at one moment.
type callSample struct {
	at                 time.Time
	mixpeek, flashback int
	// all counts every provider's requests, SCIM's too.
	all int
}

func (s callSample) total() int { return s.mixpeek + s.flashback }

// sampler records the simulator's request counters once a second, so a scenario can ask how calls
// were spread over time, not only how many there were.
type sampler struct {
	sim     *upstreamsim.Server
	mu      sync.Mutex
	samples []callSample
}

func startSampler(ctx context.Context, sim *upstreamsim.Server) *sampler {
	s := &sampler{sim: sim}
	s.record()
	go func() {
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				s.record()
			}
		}
	}()
	return s
}

func (s *sampler) record() {
	sample := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, sample)
}

// now reads the counters directly.
func (s *sampler) now() callSample {
	return callSample{
		at:        time.Now(),
		mixpeek:   s.sim.ProviderRequests(upstreamsim.ProviderMixpeek),
		flashback: s.sim.ProviderRequests(upstreamsim.ProviderFlashback),
		all:       s.sim.TotalRequests(),
	}
}

// busiest returns the most calls in any window of length width within [from, to), and the mean
// calls per window of that width over [from, to).
func (s *sampler) busiest(from, to time.Time, width time.Duration) (peak int, mean float64) {
	s.mu.Lock()
	inRange := make([]callSample, 0, len(s.samples))
	for _, sample := range s.samples {
		if !sample.at.Before(from) && !sample.at.After(to) {
			inRange = append(inRange, sample)
		}
	}
	s.mu.Unlock()
	if len(inRange) < 2 {
		return 0, 0
	}
	// Samples are a second apart give or take the scheduler's delay, so a window spans width within
	// half a second.
	const slack = 500 * time.Millisecond
	j := 0
	for i := range inRange {
		for j < len(inRange)-1 && inRange[j+1].at.Sub(inRange[i].at) <= width+slack {
			j++
		}
		if inRange[j].at.Sub(inRange[i].at) < width-slack {
			continue // the tail is shorter than one window
		}
		peak = max(peak, inRange[j].total()-inRange[i].total())
	}
	first, last := inRange[0], inRange[len(inRange)-1]
	mean = float64(last.total()-first.total()) / last.at.Sub(first.at).Seconds() * width.Seconds()
	return peak, mean
}

// series returns the calls in each consecutive window of length width from from, up to to, as the
// samples nearest each window's edges count them: where a busiest window sits in the interval.
func (s *sampler) series(from, to time.Time, width time.Duration) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := func(t time.Time) (int, bool) {
		for _, sample := range s.samples {
			if !sample.at.Before(t) {
				return sample.total(), true
			}
		}
		return 0, false
	}
	var counts []int
	for edge := from; !edge.Add(width).After(to); edge = edge.Add(width) {
		start, ok1 := at(edge)
		end, ok2 := at(edge.Add(width))
		if !ok1 || !ok2 {
			break
		}
		counts = append(counts, end-start)
	}
	return counts
}
