package dockerconv

import (
	"fmt"

	"github.com/moby/moby/api/types/events"

	engevents "github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/errdefs"
)

// EventMessage is Docker's event; clients of API 1.51 and older also get the status, id
// and from fields dockerd filled for container and image events (compose 1.x reads them).
type EventMessage struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

// Event converts the engine's event; legacy adds the fields of API 1.51 and older.
func Event(ev *engevents.Event, legacy bool) EventMessage {
	out := EventMessage{Message: events.Message{Type: events.Type(ev.Type), Action: events.Action(ev.Action),
		Actor: events.Actor{ID: ev.ID, Attributes: ev.Attributes}, Scope: "local",
		Time: ev.Time.Unix(), TimeNano: ev.Time.UnixNano()}}
	if out.Actor.Attributes == nil {
		out.Actor.Attributes = map[string]string{}
	}
	if legacy && (ev.Type == engevents.Container || ev.Type == engevents.Image) {
		out.Status, out.ID = ev.Action, ev.ID
		if ev.Type == engevents.Container {
			out.From = ev.Attributes["image"]
		}
	}
	return out
}

// EventFilter converts Docker's event filters to the engine's; scope=local is every
// event minibox has.
func EventFilter(f map[string][]string) (engevents.Filter, error) {
	out := engevents.Filter{}
	for k, vs := range f {
		if k == "scope" {
			for _, v := range vs {
				if v != "local" && v != "swarm" {
					return nil, errdefs.Invalid(fmt.Sprintf("invalid filter 'scope=%s': expected local or swarm", v))
				}
			}
			if len(vs) == 1 && vs[0] == "swarm" {
				out["type"] = append(out["type"], "none") // no swarm events: nothing matches
			}
			continue
		}
		out[k] = vs
	}
	if vs := out["type"]; len(vs) == 1 && vs[0] == "none" {
		return out, nil
	}
	if err := engevents.CheckFilter(out); err != nil {
		return nil, errdefs.Invalid("filters: " + errdefs.Message(err))
	}
	return out, nil
}
