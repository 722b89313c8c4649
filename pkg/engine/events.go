package engine

import (
	"fmt"

	"github.com/minibox/minibox/pkg/errdefs"

	"context"
	"strings"
	"sync"
	"time"
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
	EventContainer = "container"
	EventImage     = "image"
	EventNetwork   = "network"
	EventVolume    = "volume"
)

// EventFilter selects events as Docker's --filter does: each key's values are alternatives,
// keys are all required. Keys: type, event, container, image, network, volume, label.
type EventFilter map[string][]string

// eventKeys are the filter keys Events takes.
var eventKeys = map[string]bool{"type": true, "event": true, "container": true, "image": true,
	"network": true, "volume": true, "label": true}

// eventsKept is how many past events a --since can replay (Docker keeps 256 in memory).
const eventsKept = 1024

// eventsArea is the event bus: the recent past and the live subscribers.
type eventsArea struct {
	evMu   sync.Mutex
	evPast []Event
	evSubs map[chan Event]struct{}
}

// publish records ev and hands it to every subscriber (one too slow to keep up loses it,
// rather than holding the engine up).
func (e *Engine) publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	e.evMu.Lock()
	defer e.evMu.Unlock()
	if len(e.evPast) >= eventsKept {
		e.evPast = append(e.evPast[:0], e.evPast[len(e.evPast)-eventsKept/2:]...)
	}
	e.evPast = append(e.evPast, ev)
	for ch := range e.evSubs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (e *Engine) containerEvent(r *Record, action string, extra map[string]string) {
	attrs := map[string]string{"name": r.Name, "image": r.Image}
	for k, v := range r.Conf.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	e.publish(Event{Type: EventContainer, Action: action, ID: r.ID, Attributes: attrs})
}

// CheckEventFilter refuses keys Events does not know and malformed values.
func CheckEventFilter(f EventFilter) error {
	for k, vs := range f {
		if !eventKeys[k] {
			return invalidf("filter %q: unknown key; expected type, event, container, image, network, volume or label", k)
		}
		if k == "type" {
			for _, v := range vs {
				switch v {
				case EventContainer, EventImage, EventNetwork, EventVolume:
				default:
					return invalidf("filter type=%s: expected container, image, network or volume", v)
				}
			}
		}
	}
	return nil
}

func (f EventFilter) match(ev *Event) bool {
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
					k == "image" && ev.Type == EventContainer && ev.Attributes["image"] == v
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
// until ctx ends. An until in the past ends once the past is replayed.
func (e *Engine) Events(ctx context.Context, since, until time.Time, f EventFilter, emit func(Event) error) error {
	if err := CheckEventFilter(f); err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return invalidf("until (%s) is before since (%s)", until.Format(time.RFC3339Nano), since.Format(time.RFC3339Nano))
	}
	ch := make(chan Event, 256)
	e.evMu.Lock()
	if e.evSubs == nil {
		e.evSubs = map[chan Event]struct{}{}
	}
	e.evSubs[ch] = struct{}{}
	var past []Event
	if !since.IsZero() {
		for _, ev := range e.evPast {
			if !ev.Time.Before(since) {
				past = append(past, ev)
			}
		}
	}
	e.evMu.Unlock()
	defer func() {
		e.evMu.Lock()
		delete(e.evSubs, ch)
		e.evMu.Unlock()
	}()
	for i := range past {
		// Times are taken before the history's lock, so its order is only nearly theirs:
		// skip a later event rather than stop at it.
		if !until.IsZero() && past[i].Time.After(until) {
			continue
		}
		if f.match(&past[i]) {
			if err := emit(past[i]); err != nil {
				return err
			}
		}
	}
	var end <-chan time.Time
	if !until.IsZero() {
		d := time.Until(until)
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		end = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			return nil
		case ev := <-ch:
			if !until.IsZero() && ev.Time.After(until) {
				return nil
			}
			if f.match(&ev) {
				if err := emit(ev); err != nil {
					return err
				}
			}
		}
	}
}

func invalidf(format string, args ...any) error {
	return errdefs.Invalid(fmt.Sprintf(format, args...))
}
