package compose

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress shows what an action does to each network, volume and container: on a
// terminal one line per resource, redrawn in place with its latest state and how long it
// took (as Docker Compose shows it); otherwise one plain line per change, which scripts
// and logs can follow.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	live bool
	// live only: the resources in the order they first showed, the height last drawn,
	// the notes held until the lines stop moving, and the redraw ticker.
	lines   []*progressLine
	drawn   int
	notes   []string
	stop    chan struct{}
	stopped chan struct{}
}

type progressLine struct {
	key, state string
	first      time.Time
	took       time.Duration // once done
}

// States after which a resource has nothing more under way.
var doneStates = map[string]bool{"Created": true, "Started": true, "Running": true, "Healthy": true, "Exited": true,
	"Stopped": true, "Removed": true, "Restarted": true, "Pulled": true, "Built": true, "Resource is still in use": true, "Killed": true, "Paused": true, "Unpaused": true}

func newProgress(w io.Writer, live bool) *progress {
	return &progress{w: w, live: live}
}

// event records that kind name ("Container shop-web-1") reached state.
func (p *progress) event(kind, name, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		fmt.Fprintf(p.w, " %s %s  %s\n", kind, name, state)
		return
	}
	key := kind + " " + name
	var l *progressLine
	for _, x := range p.lines {
		if x.key == key {
			l = x
		}
	}
	now := time.Now()
	if l == nil {
		l = &progressLine{key: key, first: now}
		p.lines = append(p.lines, l)
	}
	l.state = state
	l.took = 0
	if doneStates[state] {
		l.took = max(now.Sub(l.first), time.Millisecond)
	}
	if p.stop == nil {
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.tick(p.stop, p.stopped)
	}
	p.draw()
}

// note prints a line of its own (a warning, or that there was nothing to do): at once
// when plain, after the lines when live (a line printed among them would be drawn over).
func (p *progress) note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		fmt.Fprintln(p.w, line)
		return
	}
	p.notes = append(p.notes, line)
}

// draw redraws the lines over the previous drawing: the cursor goes back to the first
// line, and each line is cleared before it is written.
func (p *progress) draw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	done := 0
	width := 0
	for _, l := range p.lines {
		if l.took > 0 {
			done++
		}
		width = max(width, len(l.key))
	}
	verb := "Running"
	if done == len(p.lines) {
		verb = "Done"
	}
	fmt.Fprintf(&b, "\x1b[2K[+] %s %d/%d\n", verb, done, len(p.lines))
	now := time.Now()
	for _, l := range p.lines {
		mark, took := "\x1b[36m⠿\x1b[0m", now.Sub(l.first)
		if l.took > 0 {
			mark, took = "\x1b[32m✔\x1b[0m", l.took
		}
		fmt.Fprintf(&b, "\x1b[2K %s %-*s  %-10s %5.1fs\n", mark, width, l.key, l.state, took.Seconds())
	}
	p.drawn = len(p.lines) + 1
	io.WriteString(p.w, b.String())
}

// tick redraws while lines are shown, so that a wait (a health check) shows its time
// going.
func (p *progress) tick(stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.draw()
			p.mu.Unlock()
		}
	}
}

// close stops the redraws, draws the lines a last time and prints the notes held: what
// the command prints next goes below them.
func (p *progress) close() {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if stop != nil {
		p.draw()
		p.lines, p.drawn = nil, 0
	}
	for _, line := range p.notes {
		fmt.Fprintln(p.w, line)
	}
	p.notes = nil
}
