package connection

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// simEvent is one moment in a simulated run of a turn queue.
type simEvent struct {
	at     time.Time
	holder string
	// release ends a request in flight instead of asking for a turn; answered says the upstream
	// answered it (a hung request ends in a timeout).
	release, answered bool
}

type simEvents []simEvent

func (e simEvents) Len() int           { return len(e) }
func (e simEvents) Less(i, j int) bool { return e[i].at.Before(e[j].at) }
func (e simEvents) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *simEvents) Push(x any)        { *e = append(*e, x.(simEvent)) }
func (e *simEvents) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// busyWaitBound is the longest a caller turned away by a busy budget is told to wait: the base wait
// and its jitter.
const busyWaitBound = turnAwayBase * 3 / 2

// The turn queue under random arrivals, 429 pauses, slow and hung requests and budgets: callers come
// back exactly when told. Whatever happens, no window sees more sends than the bucket allows, no
// window right after a pause sees a burst, the budget is never exceeded, every caller is served, and
// a caller turned away by a full budget while answers keep coming is not backed off.
func TestTurnQueueHoldsItsBoundsUnderRandomArrivals(t *testing.T) {
	for seed := range uint64(200) {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
			rps := float64(1 + rng.IntN(20))
			burst := 1 + rng.IntN(10)
			budget := 1 + rng.IntN(8)
			shortWait := time.Duration(rng.IntN(100)) * time.Millisecond
			q := newTurnQueue(rps, burst, budget)
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

			events := &simEvents{}
			callers := 20 + rng.IntN(200)
			for i := range callers {
				heap.Push(events, simEvent{at: start.Add(time.Duration(rng.Int64N(int64(30 * time.Second)))), holder: fmt.Sprint("u", i)})
			}
			type pause struct{ at, until time.Time }
			var pauses []pause
			for range rng.IntN(4) {
				at := start.Add(time.Duration(rng.Int64N(int64(40 * time.Second))))
				pauses = append(pauses, pause{at: at, until: at.Add(time.Duration(1+rng.IntN(20)) * time.Second)})
			}
			slices.SortFunc(pauses, func(a, b pause) int { return a.at.Compare(b.at) })

			var sends []time.Time
			inFlight, served := 0, map[string]bool{}
			var pauseEnds []time.Time
			var lastAnswer time.Time
			refused := map[string]time.Time{}
			for events.Len() > 0 {
				ev := heap.Pop(events).(simEvent)
				for len(pauses) > 0 && !pauses[0].at.After(ev.at) {
					if q.pause(pauses[0].until, pauses[0].at) {
						pauseEnds = append(pauseEnds, pauses[0].until)
					} else if len(pauseEnds) > 0 && pauses[0].until.After(pauseEnds[len(pauseEnds)-1]) {
						pauseEnds[len(pauseEnds)-1] = pauses[0].until
					}
					pauses = pauses[1:]
				}
				if ev.release {
					q.release(ev.answered, ev.at)
					inFlight--
					if ev.answered {
						lastAnswer = ev.at
					}
					continue
				}
				tr := q.take(ev.holder, ev.at, shortWait)
				if !tr.granted {
					if tr.wait <= 0 {
						t.Fatalf("%s turned away with no wait", ev.holder)
					}
					// A full budget while the upstream answers is busy, not hung: no backoff.
					if tr.cause == CauseConcurrency && !lastAnswer.IsZero() && !lastAnswer.Before(refused[ev.holder]) && tr.wait > busyWaitBound {
						t.Fatalf("%s turned away for a busy budget (last answer %s before) with a wait of %s, want at most %s",
							ev.holder, ev.at.Sub(lastAnswer), tr.wait, busyWaitBound)
					}
					if tr.cause == CauseConcurrency {
						refused[ev.holder] = ev.at
					}
					heap.Push(events, simEvent{at: ev.at.Add(tr.wait), holder: ev.holder})
					continue
				}
				if tr.wait > shortWait {
					t.Fatalf("%s granted with a wait of %s, more than the short wait %s", ev.holder, tr.wait, shortWait)
				}
				inFlight++
				if inFlight > budget {
					t.Fatalf("%d requests in flight, budget %d", inFlight, budget)
				}
				sendAt := ev.at.Add(tr.wait)
				sends = append(sends, sendAt)
				served[ev.holder] = true
				took, answered := time.Duration(rng.Int64N(int64(500*time.Millisecond))), true
				if rng.IntN(20) == 0 {
					took, answered = 10*time.Second, false // hung until its timeout
				}
				heap.Push(events, simEvent{at: sendAt.Add(took), holder: ev.holder, release: true, answered: answered})
			}

			if len(served) != callers {
				t.Fatalf("%d of %d callers served", len(served), callers)
			}
			slices.SortFunc(sends, func(a, b time.Time) int { return a.Compare(b) })
			interval := time.Duration(float64(time.Second) / rps)
			for _, window := range []time.Duration{time.Second, 5 * time.Second} {
				allowed := burst + int(window/interval) + 1
				for i := range sends {
					n := 0
					for j := i; j < len(sends) && sends[j].Sub(sends[i]) < window; j++ {
						n++
					}
					if n > allowed {
						t.Fatalf("%d sends in %s from %s, want at most rate × window + burst = %d (rps %v, burst %d, budget %d, pauses %v)",
							n, window, sends[i].Sub(start), allowed, rps, burst, budget, pauseEnds)
					}
				}
			}
			for _, end := range pauseEnds {
				n := 0
				for _, s := range sends {
					if !s.Before(end) && s.Before(end.Add(time.Second)) {
						n++
					}
				}
				if allowed := int(time.Second/interval) + 1; n > allowed {
					t.Fatalf("%d sends in the second after a pause ended at %s, want at most %d: no burst",
						n, end.Sub(start), allowed)
				}
			}
		})
	}
}
