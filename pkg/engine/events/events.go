// Package events is the daemon's event bus: what happened to containers, images,
// networks and volumes, kept for a while for --since and handed to live subscribers.
package events

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Event is one thing that happened to an object, as `events` streams it.
type Event struct {
	Type   string // container, image, network, volume
	Action string // create, start, die, destroy, pause, unpause, rename, kill, update; pull, tag, untag, delete, import, load; connect, disconnect; mount...
	ID     string
	// Attributes: name, image, exitCode, signal, and the object's labels.
	Attributes map[string]string
	Time       time.Time
}

// Object types of events.
const (
	Container = "container"
	Image     = "image"
	Network   = "network"
	Volume    = "volume"
)

// Filter selects events as Docker's --filter does: each key's values are alternatives,
// keys are all required. Keys: type, event, container, image, network, volume, label.
type Filter map[string][]string

// eventKeys are the filter keys Events takes.
var eventKeys = map[string]bool{"type": true, "event": true, "container": true, "image": true,
	"network": true, "volume": true, "label": true}

// eventsKept is how many past events a --since can replay (Docker keeps 256 in memory).
const eventsKept = 1024

// Bus is the event bus: the recent past and the live subscribers. The zero Bus is ready.
type Bus struct {
	mu   sync.Mutex
	past []Event
	subs map[chan Event]struct{}
}

// New returns an empty bus.
func New() *Bus { return &Bus{} }

// Publish records ev and hands it to every subscriber (one too slow to keep up loses it,
// rather than holding the engine up). The time is taken under the lock, so the history
// is in time order and an event stamped before a moment is published before it: Events
// can tell when its replay and its subscription together hold all up to until.
func (b *Bus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if len(b.past) >= eventsKept {
		b.past = append(b.past[:0], b.past[len(b.past)-eventsKept/2:]...)
	}
	b.past = append(b.past, ev)
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// CheckFilter refuses keys Events does not know and malformed values.
func CheckFilter(f Filter) error {
	for k, vs := range f {
		if !eventKeys[k] {
			return invalidf("filter %q: unknown key; expected type, event, container, image, network, volume or label", k)
		}
		if k == "type" {
			for _, v := range vs {
				switch v {
				case Container, Image, Network, Volume:
				default:
					return invalidf("filter type=%s: expected container, image, network or volume", v)
				}
			}
		}
	}
	return nil
}

func (f Filter) match(ev *Event) bool {
	for k, vs := range f {
		ok := false
		for _, v := range vs {
			switch k {
			case "type":
				ok = ev.Type == v
			case "event":
				ok = ev.Action == v
			case "container", "image", "network", "volume":
				ok = ev.Type == k && (ev.ID == v || ev.Attributes["name"] == v || len(v) >= 3 && strings.HasPrefix(ev.ID, v)) ||
					k == "image" && ev.Type == Container && ev.Attributes["image"] == v
			case "label":
				lk, lv, has := strings.Cut(v, "=")
				got, present := ev.Attributes[lk]
				ok = present && (!has || got == lv)
			}
			if ok {
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Events emits the events between since and until that match f: first those already past
// (from the daemon's recent memory), then live ones. Zero since: only live ones; zero until:
// until ctx ends. An until in the past ends once the past is replayed. Both bounds are
// inclusive, to the nanosecond, as dockerd's.
func (b *Bus) Events(ctx context.Context, since, until time.Time, f Filter, emit func(Event) error) error {
	if err := CheckFilter(f); err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return invalidf("until (%s) is before since (%s)", until.Format(time.RFC3339Nano), since.Format(time.RFC3339Nano))
	}
	// The history and the subscription are taken under one lock: every event is in
	// exactly one of them.
	ch := make(chan Event, 256)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	var past []Event
	if !since.IsZero() {
		i := sort.Search(len(b.past), func(i int) bool { return !b.past[i].Time.Before(since) })
		past = slices.Clone(b.past[i:])
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}()
	send := func(ev *Event) error {
		if f.match(ev) {
			return emit(*ev)
		}
		return nil
	}
	for i := range past {
		if !until.IsZero() && past[i].Time.After(until) {
			break // in time order: the rest is later still
		}
		if err := send(&past[i]); err != nil {
			return err
		}
	}
	var end <-chan time.Time
	if !until.IsZero() {
		if d := time.Until(until); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			end = t.C
		} else {
			return b.drainUntil(ch, until, send)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			return b.drainUntil(ch, until, send)
		case ev := <-ch:
			if !until.IsZero() && ev.Time.After(until) {
				return nil
			}
			if err := send(&ev); err != nil {
				return err
			}
		}
	}
}

// drainUntil emits what the subscription already holds up to until, once until has
// passed. Publishing stamps and sends under mu, so what ch holds under it is every
// event stamped up to until that the replay did not have: ending at the timer alone
// could leave some behind, as select picks at random among ready cases.
func (b *Bus) drainUntil(ch chan Event, until time.Time, send func(*Event) error) error {
	var held []Event
	b.mu.Lock()
	for more := true; more; {
		select {
		case ev := <-ch:
			held = append(held, ev)
		default:
			more = false
		}
	}
	b.mu.Unlock()
	for i := range held {
		if held[i].Time.After(until) {
			break
		}
		if err := send(&held[i]); err != nil {
			return err
		}
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return errdefs.Invalid(fmt.Sprintf(format, args...))
}
