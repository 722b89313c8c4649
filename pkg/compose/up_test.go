package compose

import (
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// restartProject: app restarts with db, web with app; other depends on db without
// restart.
func restartProject() *types.Project {
	dep := func(restart bool) types.ServiceDependency {
		return types.ServiceDependency{Condition: types.ServiceConditionStarted, Restart: restart, Required: true}
	}
	svc := func(name string, d types.DependsOnConfig) types.ServiceConfig {
		s := types.ServiceConfig{Name: name}
		s.DependsOn = d
		return s
	}
	return &types.Project{Name: "p", Services: types.Services{
		"db":    {Name: "db"},
		"app":   svc("app", types.DependsOnConfig{"db": dep(true)}),
		"web":   svc("web", types.DependsOnConfig{"app": dep(true)}),
		"other": svc("other", types.DependsOnConfig{"db": dep(false)}),
	}}
}

func TestRestartDependents(t *testing.T) {
	r := &Runner{P: restartProject()}
	got := r.restartDependents([]string{"db"})
	slices.Sort(got)
	if want := []string{"app", "db", "web"}; !slices.Equal(got, want) {
		t.Errorf("restartDependents(db) = %v, want %v", got, want)
	}
	if got := r.restartDependents([]string{"other"}); !slices.Equal(got, []string{"other"}) {
		t.Errorf("restartDependents(other) = %v, want [other]", got)
	}
}

func TestRestartFor(t *testing.T) {
	p := restartProject()
	cv := &convergence{changed: map[string]bool{}}
	if d := cv.restartFor(p.Services["app"]); d != "" {
		t.Errorf("nothing changed, app restarts for %q", d)
	}
	cv.change("db")
	if d := cv.restartFor(p.Services["app"]); d != "db" {
		t.Errorf("db changed: app restarts for %q, want db", d)
	}
	if d := cv.restartFor(p.Services["other"]); d != "" {
		t.Errorf("other has no restart: true, restarts for %q", d)
	}
	if d := cv.restartFor(p.Services["web"]); d != "" {
		t.Errorf("app did not change yet, web restarts for %q", d)
	}
}
