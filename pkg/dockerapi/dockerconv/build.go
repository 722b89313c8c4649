package dockerconv

import (
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine/buildsvc"
)

// ShortID is the 12 hex digits of an image ID, as "Successfully built" shows it.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// StepPrinter turns the engine's build events into the classic builder's stream:
// "Step 2/5 : RUN ..." as each instruction is reached (the ones that only set the
// config with the next one that runs, or at the end), what the steps print, and
// " ---> Using cache" for a cached one. The builder's own lines (a block's start and
// end, the build's summary) are not Docker's and stay out.
type StepPrinter struct {
	steps   []buildsvc.BuildStep
	printed []bool
	byBlock map[string]int
	// Per block, the builder line that follows a state change and is left out.
	skip map[string]string
	// Blocks that started and whose naming line ("file:line:col: instruction") is due.
	naming map[string]bool
}

// isStepName reports the builder's line naming a step: "file:line:col: instruction".
func isStepName(line string) bool {
	pos, _, ok := strings.Cut(line, ": ")
	if !ok {
		return false
	}
	parts := strings.Split(pos, ":")
	if len(parts) < 3 {
		return false
	}
	for _, n := range parts[len(parts)-2:] {
		if n == "" || strings.Trim(n, "0123456789") != "" {
			return false
		}
	}
	return true
}

// NewStepPrinter prints the steps of a Dockerfile as its build runs.
func NewStepPrinter(steps []buildsvc.BuildStep) *StepPrinter {
	p := &StepPrinter{steps: steps, printed: make([]bool, len(steps)), byBlock: map[string]int{}, skip: map[string]string{}, naming: map[string]bool{}}
	for i, s := range steps {
		if s.Block != "" {
			p.byBlock[s.Block] = i
		}
	}
	return p
}

// upTo prints the steps of i's stage (and the ARGs before the first FROM) up to i.
func (p *StepPrinter) upTo(i int, text func(string) error) error {
	for j := 0; j <= i; j++ {
		if p.printed[j] || p.steps[j].Stage != p.steps[i].Stage && p.steps[j].Stage >= 0 {
			continue
		}
		p.printed[j] = true
		if err := text(fmt.Sprintf("Step %d/%d : %s\n", j+1, len(p.steps), p.steps[j].Text)); err != nil {
			return err
		}
	}
	return nil
}

// Rest prints the steps not reached by a block: the config set at the end.
func (p *StepPrinter) Rest(text func(string) error) {
	for i := range p.steps {
		if !p.printed[i] {
			p.upTo(i, text)
		}
	}
}

// Event prints one build event, after the steps it reaches.
func (p *StepPrinter) Event(ev api.BuildEvent, text func(string) error) error {
	if len(p.steps) == 0 { // no Dockerfile steps known: the output as it comes
		if ev.Line != nil {
			return text(*ev.Line + "\n")
		}
		return nil
	}
	i, ok := p.byBlock[ev.Block]
	if !ok {
		return nil // the build's own blocks (base, finalize, summary) or a trigger's
	}
	switch {
	case ev.Line != nil:
		line := *ev.Line
		if pre, ok := p.skip[ev.Block]; ok && strings.HasPrefix(line, pre) {
			delete(p.skip, ev.Block)
			return nil
		}
		if p.naming[ev.Block] && isStepName(line) {
			// The builder names the step ("Dockerfile:3:1: RUN ..."): the Step line did.
			delete(p.naming, ev.Block)
			return nil
		}
		return text(line + "\n")
	case ev.State == api.BlockStart:
		p.skip[ev.Block] = "START "
		p.naming[ev.Block] = true
		return p.upTo(i, text)
	case ev.State == api.BlockCached:
		p.skip[ev.Block] = ev.State + " "
		if err := p.upTo(i, text); err != nil {
			return err
		}
		return text(" ---> Using cache\n")
	default: // DONE, FAILED
		p.skip[ev.Block] = ev.State + " "
	}
	return nil
}
