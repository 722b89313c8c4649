package compose

import (
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
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

// An orphan is a container of a service the file no longer has, or a one-off that
// exited; a service its profiles leave out is still the file's (as in Compose).
func TestOrphans(t *testing.T) {
	r := &Runner{P: &types.Project{Name: "p",
		Services:         types.Services{"web": {Name: "web"}},
		DisabledServices: types.Services{"debug": {Name: "debug", Profiles: []string{"tools"}}}}}
	ctr := func(name, service, status string, oneoff bool) api.ContainerSummary {
		c := api.ContainerSummary{Name: name, Status: status, Labels: map[string]string{LabelProject: "p", LabelService: service}}
		if oneoff {
			c.Labels[LabelOneoff] = "True"
		}
		return c
	}
	all := []api.ContainerSummary{
		ctr("p-web-1", "web", "running", false),
		ctr("p-debug-1", "debug", "running", false),
		ctr("p-gone-1", "gone", "exited", false),
		ctr("p-web-run-1", "web", "running", true),
		ctr("p-web-run-2", "web", "exited", true),
	}
	var got []string
	for _, c := range r.orphans(all) {
		got = append(got, c.Name)
	}
	if want := []string{"p-gone-1", "p-web-run-2"}; !slices.Equal(got, want) {
		t.Errorf("orphans = %v, want %v", got, want)
	}
}
