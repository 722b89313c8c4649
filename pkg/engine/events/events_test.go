package events

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// collect runs Events; each emit takes at least slow (a client that reads slowly).
func collect(t *testing.T, b *Bus, since, until time.Time, f Filter, slow time.Duration) []Event {
	t.Helper()
	var got []Event
	if err := b.Events(context.Background(), since, until, f, func(ev Event) error {
		got = append(got, ev)
		if slow > 0 {
			time.Sleep(slow)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// The replay bounds are inclusive to the nanosecond, as dockerd's: an until equal to an
// event's time keeps it, one a nanosecond before drops it.
func TestEventsReplayBounds(t *testing.T) {
	b := New()
	for _, name := range []string{"a", "b", "c"} {
		b.Publish(Event{Type: Volume, Action: "create", ID: name, Attributes: map[string]string{"name": name}})
	}
	past := append([]Event(nil), b.past...)
	for i := 1; i < len(past); i++ {
		if past[i].Time.Before(past[i-1].Time) {
			t.Fatalf("history out of time order: %v after %v", past[i].Time, past[i-1].Time)
		}
	}
	ids := func(evs []Event) string {
		s := ""
		for _, ev := range evs {
			s += ev.ID
		}
		return s
	}
	cases := []struct {
		since, until time.Time
		want         string
	}{
		{past[0].Time, past[2].Time, "abc"},
		{past[1].Time, past[1].Time, "b"},
		{past[0].Time, past[1].Time.Add(-time.Nanosecond), "a"},
		{past[2].Time.Add(time.Nanosecond), past[2].Time.Add(time.Nanosecond), ""},
	}
	for _, c := range cases {
		if got := ids(collect(t, b, c.since, c.until, Filter{}, 0)); got != c.want {
			t.Errorf("since %v until %v: got %q, want %q", c.since, c.until, got, c.want)
		}
	}
	if got := ids(collect(t, b, past[0].Time, past[2].Time, Filter{"volume": {"b"}}, 0)); got != "b" {
		t.Errorf("filter volume=b: got %q", got)
	}
	// The docker CLI sends --until 0s as whole seconds, now rounded down: what happened
	// since the start of the current second is not replayed (by dockerd either). A
	// script that wants all of its events takes until with a fraction.
	if sec := past[2].Time.Truncate(time.Second); !sec.Equal(past[2].Time) {
		for _, ev := range collect(t, b, past[0].Time.Truncate(time.Second), sec, Filter{}, 0) {
			if ev.Time.After(sec) {
				t.Errorf("until %v (whole seconds) replayed %s at %v", sec, ev.ID, ev.Time)
			}
		}
	}
}

// Events published while a stream with an until a little ahead is replaying and
// subscribing all reach it: each event stamped up to until is emitted exactly once,
// whether it was in the history, in the subscription when the timer fired, or live.
// The stream reads slowly, so events wait in its subscription when until comes.
func TestEventsUntilHandOff(t *testing.T) {
	b := New()
	for round := 0; round < 20; round++ {
		since := time.Now()
		until := since.Add(5 * time.Millisecond)
		// 4 x 50 events, fewer than a subscription holds, so none is dropped for being
		// slow; spread to straddle until.
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 50; n++ {
					b.Publish(Event{Type: Container, Action: "start", ID: fmt.Sprintf("r%d-w%d-%d", round, w, n)})
					time.Sleep(200 * time.Microsecond)
				}
			}()
		}
		got := collect(t, b, since, until, Filter{}, 100*time.Microsecond)
		wg.Wait()
		b.mu.Lock()
		var want []Event
		for _, ev := range b.past {
			if !ev.Time.Before(since) && !ev.Time.After(until) {
				want = append(want, ev)
			}
		}
		b.mu.Unlock()
		seen := map[string]int{}
		for _, ev := range got {
			seen[ev.ID]++
			if ev.Time.Before(since) || ev.Time.After(until) {
				t.Fatalf("round %d: %s at %v is outside [%v, %v]", round, ev.ID, ev.Time, since, until)
			}
		}
		for _, ev := range want {
			if seen[ev.ID] != 1 {
				t.Fatalf("round %d: %s (at %v, until %v) emitted %d times, want once; %d of %d emitted",
					round, ev.ID, ev.Time, until, seen[ev.ID], len(got), len(want))
			}
		}
	}
}
