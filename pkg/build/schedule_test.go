package build

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestScheduleNoWaves(t *testing.T) {
	// a(slow) and b(fast) are independent; c needs b only and must not wait for a.
	order := []string{"a", "b", "c", "d"}
	deps := map[string][]string{"c": {"b"}, "d": {"a", "c"}}
	var mu sync.Mutex
	start := map[string]time.Time{}
	end := map[string]time.Time{}
	dur := map[string]time.Duration{"a": 200 * time.Millisecond, "b": 10 * time.Millisecond, "c": 10 * time.Millisecond, "d": 0}
	_, err := schedule(context.Background(), order, deps, 4, func(ctx context.Context, n string) error {
		mu.Lock()
		start[n] = time.Now()
		mu.Unlock()
		time.Sleep(dur[n])
		mu.Lock()
		end[n] = time.Now()
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !start["c"].Before(end["a"]) {
		t.Errorf("c waited for a: a ended %v, c started %v", end["a"], start["c"])
	}
	if start["c"].Before(end["b"]) || start["d"].Before(end["a"]) || start["d"].Before(end["c"]) {
		t.Errorf("a node started before its deps finished")
	}
}

func TestScheduleWorkersAndFailure(t *testing.T) {
	order := []string{"a", "b", "c", "d", "e"}
	deps := map[string][]string{"e": {"a"}}
	var mu sync.Mutex
	cur, peak := 0, 0
	ran := map[string]bool{}
	boom := errors.New("boom")
	failed, err := schedule(context.Background(), order, deps, 2, func(ctx context.Context, n string) error {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		ran[n] = true
		mu.Unlock()
		defer func() { mu.Lock(); cur--; mu.Unlock() }()
		if n == "b" {
			return boom
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
			return nil
		}
	})
	if failed != "b" || !errors.Is(err, boom) {
		t.Fatalf("failed %q err %v", failed, err)
	}
	if peak > 2 {
		t.Errorf("peak concurrency %d > 2 workers", peak)
	}
	if ran["e"] || ran["c"] && ran["d"] {
		t.Errorf("nodes started after the failure: %v", ran)
	}
}
