package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func TestGolden(t *testing.T) {
	testutil.AtSizes(t, "", func(t *testing.T, w, h int) {
		eng, c, settle := testutil.Fake(t)
		eng.StartPipeline(t.Context())
		settle()
		c.Store.SetStages(eng.Stages())
		c.Store.SetStages(eng.Stages()) // what the root fetches after Init
		testutil.RunGolden(t, New(c), w, h, nil)
	})
}

func TestLabels(t *testing.T) {
	eng, c, settle := testutil.Fake(t)
	eng.StartPipeline(t.Context())
	settle()
	c.Store.SetStages(eng.Stages()) // what the root fetches after Init
	m := New(c)
	m.SetSize(100, 30)
	v := m.View()
	shows(t, v, "cached", "running", "pending", "ETA 2m10s", "Loss — generator")
}

func TestFormatETA(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 190 * time.Second: "3m10s", 65 * time.Minute: "1h05m"} {
		if got := FormatETA(d); got != want {
			t.Errorf("%v: %s", d, got)
		}
	}
}

// Stage times come from the start and finish events; final losses stay
// after a stage ends; with nothing running the last trained stage's curve
// stays on screen.
func TestFinishedStageKeepsTimeAndLoss(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Store.Apply([]events.Event{
		{Kind: events.StageStarted, Stage: "base", Time: t0},
		{Kind: events.Step, Stage: "base", Step: 1, QueryLoss: events.F(2.5), Time: t0},
		{Kind: events.Step, Stage: "base", Step: 2, QueryLoss: events.F(1.25), Time: t0},
		{Kind: events.StageFinished, Stage: "base", Time: t0.Add(95 * time.Second)},
		{Kind: events.StageFinished, Stage: "collect", Cached: true, Time: t0.Add(96 * time.Second)},
	})
	m := New(c)
	m.SetSize(100, 30)
	v := m.View()
	shows(t, v, "took 1m35s  loss 1.250", "from the work dir", "Loss — base (cross-entropy, finished)")
}

// All cached: the screen says where the artifacts are instead of empty rows.
func TestAllCachedShowsArtifacts(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	c.Store.SetStages([]api.StageStatus{{Name: "base", State: "cached", Fraction: 1}, {Name: "generator", State: "cached", Fraction: 1}})
	m := New(c)
	m.SetSize(100, 30)
	v := m.View()
	shows(t, v, "Artifacts", "pretrained base model: base/", "nothing to train")
}

// shows fails t for each of want that view lacks.
func shows(t *testing.T, view string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(view, w) {
			t.Errorf("missing %q in\n%s", w, view)
		}
	}
}
