package adapt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func setup(t *testing.T) (*Model, *fakeengine.Engine, func()) {
	t.Helper()
	eng := fakeengine.New()
	c := testutil.Common(t, eng)
	settle := testutil.Collect(c, eng)
	m := New(c)
	testutil.Exec(m, m.SetSuite("gsm-mc"), settle)
	return m, eng, settle
}

func names(m *Model) string {
	var n []string
	for _, s := range m.Series() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func TestToggleKeepsOtherCurveSameSeed(t *testing.T) {
	m, eng, settle := setup(t)
	if m.Mode != MethodDecoupled || len(eng.Adapts) != 1 {
		t.Fatalf("mode %s, adapts %v", m.Mode, eng.Adapts)
	}
	testutil.Press(m, settle, "m")
	if m.Mode != MethodGen || len(eng.Adapts) != 2 {
		t.Fatalf("after toggle: mode %s, adapts %v", m.Mode, eng.Adapts)
	}
	a, b := eng.Adapts[0], eng.Adapts[1]
	if a.Suite != b.Suite || a.Seed != b.Seed || a.Knobs != b.Knobs || a.Method != "degaml" || b.Method != "degaml-gen" {
		t.Fatalf("toggle must keep task, seed and knobs: %+v vs %+v", a, b)
	}
	got := names(m)
	for _, want := range []string{"degaml-gen acc (final)", "degaml query", "degaml support", "degaml acc"} {
		if !strings.Contains(got, want) {
			t.Errorf("series %q missing from %s", want, got)
		}
	}
	// Toggling back reuses the finished run: no new Adapt call.
	testutil.Press(m, settle, "m")
	if m.Mode != MethodDecoupled || len(eng.Adapts) != 2 {
		t.Fatalf("toggle back: mode %s, %d adapts", m.Mode, len(eng.Adapts))
	}
	if !strings.Contains(m.View(), "Mode: decoupled") {
		t.Error("stable label missing")
	}
}

func TestBaselinesJoinTheChart(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Press(m, settle, "b", "down", "down", " ", "esc")
	last := eng.Adapts[len(eng.Adapts)-1]
	if last.Method != "maml-en-llm" || last.Seed != m.Seed || last.Suite != "gsm-mc" {
		t.Fatalf("baseline request %+v", last)
	}
	if !strings.Contains(names(m), "maml-en-llm query") || m.SelectorOpen() {
		t.Fatalf("series %s, selector open %v", names(m), m.SelectorOpen())
	}
}

func TestSetParamsRerunsShown(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Press(m, settle, "m", "b", " ", "esc")
	n := len(eng.Adapts)
	k := api.Knobs{InnerSteps: 5, LR: 1e-4}
	testutil.Exec(m, m.SetParams(7, k), settle)
	got := map[string]bool{}
	for _, r := range eng.Adapts[n:] {
		if r.Seed != 7 || r.Knobs != k {
			t.Errorf("request %+v", r)
		}
		got[r.Method] = true
	}
	if !got["degaml"] || !got["degaml-gen"] || !got["nometa-lora"] {
		t.Fatalf("re-run %v", got)
	}
	if len(m.Current().Steps) != 0 { // gen-only is current: no steps
		t.Errorf("gen-only has steps")
	}
	if r := m.Runs()["degaml"]; r == nil || len(r.Steps) != 5 {
		t.Fatalf("decoupled run with 5 steps expected")
	}
}

func TestMetricViews(t *testing.T) {
	m, _, settle := setup(t)
	testutil.Press(m, settle, "v")
	if n := names(m); strings.Contains(n, "acc") || !strings.Contains(n, "query") {
		t.Errorf("loss view: %s", n)
	}
	testutil.Press(m, settle, "v")
	if n := names(m); strings.Contains(n, "query") || !strings.Contains(n, "acc") {
		t.Errorf("accuracy view: %s", n)
	}
}

func TestGolden(t *testing.T) {
	for _, sz := range testutil.Sizes {
		name := fmt.Sprintf("%dx%d", sz[0], sz[1])
		t.Run("decoupled_"+name, func(t *testing.T) {
			m, _, _ := setup(t)
			testutil.RunGolden(t, m, sz[0], sz[1], nil)
		})
		t.Run("gen_baselines_"+name, func(t *testing.T) {
			m, _, settle := setup(t)
			testutil.Press(m, settle, "m", "b", " ", "down", "down", " ", "esc")
			testutil.RunGolden(t, m, sz[0], sz[1], nil)
		})
		t.Run("selector_"+name, func(t *testing.T) {
			m, _, settle := setup(t)
			testutil.Press(m, settle, "b", "down")
			testutil.RunGolden(t, m, sz[0], sz[1], nil)
		})
	}
}

var _ common.Component = (*Model)(nil)

// The card keeps its bottom border however long the policy's reason is: the
// reason is cut to the lines left and ends in "…".
func TestCardFitsHeight(t *testing.T) {
	m, _, _ := setup(t)
	run := m.Current()
	if run == nil || run.Chosen == nil {
		t.Fatal("no chosen hypothesis")
	}
	for _, h := range []int{7, 9, 12} {
		card := hypothesisCard(m.c.Styles, run, 44, h, true, "Hypothesis")
		testutil.AssertFits(t, card, 44, h)
		lines := strings.Split(card, "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "└") {
			t.Errorf("h=%d: no bottom border:\n%s", h, card)
		}
		if h < 12 && !strings.Contains(card, "…") {
			t.Errorf("h=%d: reason not marked as cut:\n%s", h, card)
		}
	}
}

// A run the engine has not started yet says it waits for the pipeline.
func TestQueuedBehindPipeline(t *testing.T) {
	m, _, _ := setup(t)
	m.c.Store.AddRun("adapt-99", api.AdaptRequest{Suite: "math-mc", Method: MethodDecoupled, Seed: 1})
	m.Suite = "math-mc"
	m.c.Store.SetStages([]api.StageStatus{{Name: "baselines", State: "running", Fraction: 0.09, ETA: 412e9}})
	if got := m.statusLine(); !strings.Contains(got, "queued: waiting for the pipeline (baselines 9% ETA 6m52s)") {
		t.Errorf("status %q", got)
	}
	m.c.Store.SetStages([]api.StageStatus{{Name: "baselines", State: "done", Fraction: 1}})
	if got := m.statusLine(); !strings.Contains(got, "running: waiting for the first step") {
		t.Errorf("status %q", got)
	}
}
