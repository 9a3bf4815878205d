package main

import (
	"context"
	"fmt"

	eventsv1 "k8s.io/api/events/v1"
)

// eventOccurrences counts every Event occurrence in the cluster, by list: an events.k8s.io Event
// that repeats keeps one object and counts up its series.
func (e *env) eventOccurrences(ctx context.Context) (int, error) {
	list := &eventsv1.EventList{}
	if err := e.k8s.List(ctx, list); err != nil {
		return 0, fmt.Errorf("list Events: %w", err)
	}
	total := 0
	for _, ev := range list.Items {
		if ev.Series != nil && ev.Series.Count > 0 {
			total += int(ev.Series.Count)
		} else {
			total++
		}
	}
	return total, nil
}
