package state

import (
	"slices"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
)

func TestSelectionMethods(t *testing.T) {
	s := NewStore()
	if s.Sel.Methods() != nil {
		t.Fatal("no task, nothing to run")
	}
	v := s.Version
	s.SelectSuite("math-mc")
	if got := s.Sel.Methods(); !slices.Equal(got, []api.Method{MethodDecoupled, MethodBase}) {
		t.Fatalf("methods %v", got)
	}
	s.ToggleBaseline("abmll")
	s.ToggleBaseline("nometa-lora")
	s.ToggleMode()
	want := []api.Method{MethodGen, MethodDecoupled, "nometa-lora", "abmll", MethodBase}
	if got := s.Sel.Methods(); !slices.Equal(got, want) {
		t.Fatalf("methods %v, want %v (chart order, not tick order)", got, want)
	}
	if s.ToggleBaseline("abmll") || s.Sel.Shows("abmll") {
		t.Fatal("untick")
	}
	if s.ToggleBaseline("not-a-method") {
		t.Fatal("unknown baseline ticked")
	}
	if s.Version <= v {
		t.Fatal("selection changes must bump the version")
	}
	s.NextSeed()
	s.SelectKnobs(7, api.Knobs{InnerSteps: 3})
	if r := s.Sel.Request("abmll"); r.Seed != 7 || r.Knobs.InnerSteps != 3 || r.Suite != "math-mc" {
		t.Fatalf("request %+v", r)
	}
}

// Selected returns only selected methods' runs for the current selection:
// an unticked baseline's finished run leaves, another seed's runs are not
// mixed in.
func TestSelectedRuns(t *testing.T) {
	s := NewStore()
	s.SelectSuite("math-mc")
	s.ToggleBaseline("union-lora")
	s.AddRun("a", s.Sel.Request(MethodDecoupled))
	s.AddRun("b", s.Sel.Request("union-lora"))
	s.AddRun("c", api.AdaptRequest{Suite: "math-mc", Method: "abmll", Seed: s.Sel.Seed}) // not ticked
	if got := s.Selected(); len(got) != 2 || got["union-lora"] == nil || got["abmll"] != nil {
		t.Fatalf("selected %v", got)
	}
	s.ToggleBaseline("union-lora")
	if got := s.Selected(); len(got) != 1 {
		t.Fatalf("unticked baseline still selected: %v", got)
	}
	s.NextSeed()
	if got := s.Selected(); len(got) != 0 {
		t.Fatalf("other seed's runs leaked: %v", got)
	}
}

// Steps belong to the validation trial announced before them; the curve
// is the chosen trial's steps.
func TestTrialsAndCurve(t *testing.T) {
	s := NewStore()
	ttt := events.HypothesisInfo{Family: "ttt", Params: map[string]float64{"lr": 1e-5}}
	mix := events.HypothesisInfo{Family: "mix", Params: map[string]float64{"lambda": 0.75}}
	scored := ttt
	scored.Reward = events.F(1)
	chosen := scored
	chosen.Chosen = true
	s.Apply([]events.Event{
		{Kind: events.Hypothesis, Run: "r", Hyp: &ttt},
		{Kind: events.Step, Run: "r", Step: 1, Phase: "ttt"},
		{Kind: events.Step, Run: "r", Step: 2, Phase: "ttt"},
		{Kind: events.Hypothesis, Run: "r", Hyp: &scored},
		{Kind: events.Hypothesis, Run: "r", Hyp: &mix},
		{Kind: events.Step, Run: "r", Step: 1, Phase: "mix"},
	})
	r := s.Runs["r"]
	if len(r.Hyps) != 2 || r.Hyps[0].Reward == nil {
		t.Fatalf("a re-announced hypothesis must update, not repeat: %+v", r.Hyps)
	}
	if c := r.Curve(); len(c) != 1 || c[0].Phase != "mix" {
		t.Fatalf("while choosing, the curve follows the trial in progress: %+v", c)
	}
	s.Apply([]events.Event{{Kind: events.Hypothesis, Run: "r", Hyp: &chosen}})
	if r.ChosenTrial() != 0 {
		t.Fatalf("chosen trial %d", r.ChosenTrial())
	}
	if c := r.Curve(); len(c) != 2 || c[0].Step != 1 || c[1].Step != 2 || c[0].Phase != "ttt" {
		t.Fatalf("curve %+v", c)
	}
}

type worldsEngine struct{ calls int }

func (w *worldsEngine) World(suite string, seed int64) (api.World, error) {
	w.calls++
	return api.World{Suite: suite, Seed: seed, Task: suite + "#501"}, nil
}

func TestWorldCached(t *testing.T) {
	s := NewStore()
	e := &worldsEngine{}
	for range 3 {
		if w, ok := s.World(e, "math-mc", 1); !ok || w.Task != "math-mc#501" {
			t.Fatal(w)
		}
	}
	if e.calls != 1 {
		t.Fatalf("%d engine calls", e.calls)
	}
	if _, ok := s.World(struct{}{}, "x", 1); ok {
		t.Fatal("an engine without Worlds has no world")
	}
}
