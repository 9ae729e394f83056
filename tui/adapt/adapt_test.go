package adapt

import (
	"fmt"
	"io"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/themes"
	"github.com/muesli/termenv"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func setup(t *testing.T) (*Model, *fakeengine.Engine, func()) {
	t.Helper()
	eng, c, settle := testutil.Fake(t)
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
	// The current mode and the base model (the chart's reference line).
	if m.Sel().Mode != MethodDecoupled || len(eng.Adapts) != 2 || eng.Adapts[1].Method != string(MethodBase) {
		t.Fatalf("mode %s, adapts %v", m.Sel().Mode, eng.Adapts)
	}
	testutil.Press(m, settle, "m")
	if m.Sel().Mode != MethodGen || len(eng.Adapts) != 3 {
		t.Fatalf("after toggle: mode %s, adapts %v", m.Sel().Mode, eng.Adapts)
	}
	a, b := eng.Adapts[0], eng.Adapts[2]
	if a.Suite != b.Suite || a.Seed != b.Seed || a.Knobs != b.Knobs || a.Method != "degaml" || b.Method != "degaml-gen" {
		t.Fatalf("toggle must keep task, seed and knobs: %+v vs %+v", a, b)
	}
	got := names(m)
	for _, want := range []string{"gen-only test acc", "decoupled query", "decoupled support", "decoupled acc"} {
		if !strings.Contains(got, want) {
			t.Errorf("series %q missing from %s", want, got)
		}
	}
	// Toggling back reuses the finished run: no new Adapt call.
	testutil.Press(m, settle, "m")
	if m.Sel().Mode != MethodDecoupled || len(eng.Adapts) != 3 {
		t.Fatalf("toggle back: mode %s, %d adapts", m.Sel().Mode, len(eng.Adapts))
	}
	if !strings.Contains(m.View(), "Mode: decoupled") {
		t.Error("stable label missing")
	}
}

func TestBaselinesJoinTheChart(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Press(m, settle, "b", "down", "down", " ", "esc")
	last := eng.Adapts[len(eng.Adapts)-1]
	if last.Method != "maml-en-llm" || last.Seed != m.Sel().Seed || last.Suite != "gsm-mc" {
		t.Fatalf("baseline request %+v", last)
	}
	if !strings.Contains(names(m), "maml-en-llm query") || m.SelectorOpen() {
		t.Fatalf("series %s, selector open %v", names(m), m.SelectorOpen())
	}
	// Unticking a finished baseline takes its curve off the chart.
	testutil.Press(m, settle, "b", " ", "esc")
	if strings.Contains(names(m), "maml-en-llm") {
		t.Fatalf("unticked baseline still drawn: %s", names(m))
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
	if !got["degaml"] || !got["degaml-gen"] || !got["nometa-lora"] || !got["base"] {
		t.Fatalf("re-run %v", got)
	}
	if len(m.Current().Steps) != 0 { // gen-only is current: no steps
		t.Errorf("gen-only has steps")
	}
	// The fake runs three validation trials (TTT 5 steps, SLOT 3, mixing
	// none) and chooses TTT: the chart draws the chosen trial's 5 steps.
	if r := m.Runs()["degaml"]; r == nil || len(r.Steps) != 8 || len(r.Curve()) != 5 || r.Curve()[0].Phase != "ttt" {
		t.Fatalf("decoupled run: %d steps, curve %v", len(r.Steps), r.Curve())
	}
}

func TestMetricViews(t *testing.T) {
	m, _, settle := setup(t)
	testutil.Press(m, settle, "v")
	if n := names(m); strings.Contains(n, "query") || !strings.Contains(n, "acc") {
		t.Errorf("accuracy view: %s", n)
	}
	testutil.Press(m, settle, "v")
	if n := names(m); strings.Contains(n, "acc") || !strings.Contains(n, "query") {
		t.Errorf("loss view: %s", n)
	}
}

func TestGolden(t *testing.T) {
	testutil.AtSizes(t, "decoupled_", func(t *testing.T, w, h int) {
		m, _, _ := setup(t)
		testutil.RunGolden(t, m, w, h, nil)
	})
	testutil.AtSizes(t, "gen_baselines_", func(t *testing.T, w, h int) {
		m, _, settle := setup(t)
		testutil.Press(m, settle, "m", "b", " ", "down", "down", " ", "esc")
		testutil.RunGolden(t, m, w, h, nil)
	})
	testutil.AtSizes(t, "selector_", func(t *testing.T, w, h int) {
		m, _, settle := setup(t)
		testutil.Press(m, settle, "b", "down")
		testutil.RunGolden(t, m, w, h, nil)
	})
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
	m.c.Store.AddRun("adapt-99", api.AdaptRequest{Suite: "math-mc", Method: string(MethodDecoupled), Seed: 1})
	m.c.Store.SelectSuite("math-mc")
	m.c.Store.SetStages([]api.StageStatus{{Name: "baselines", State: "running", Fraction: 0.09, ETA: 412e9}})
	if got := m.statusLine(); !strings.Contains(got, "queued: waiting for the pipeline (baselines 9% ETA 6m52s)") {
		t.Errorf("status %q", got)
	}
	m.c.Store.SetStages([]api.StageStatus{{Name: "baselines", State: "done", Fraction: 1}})
	if got := m.statusLine(); !strings.Contains(got, "running: waiting for the first step") {
		t.Errorf("status %q", got)
	}
}

// Every method has its own glyph and, in the colour themes, its own
// colour: under NO_COLOR or a monochrome theme the glyphs alone tell the
// curves apart.
func TestMethodsLookDistinct(t *testing.T) {
	m, _, _ := setup(t)
	for _, th := range []string{"dark", "light", "high-contrast"} {
		theme, err := themes.Load(th)
		if err != nil {
			t.Fatal(err)
		}
		m.c.Styles = common.NewStyles(lipgloss.NewRenderer(io.Discard), theme)
		seenG, seenC := map[rune]api.Method{}, map[string]api.Method{}
		for _, method := range order() {
			g, sty := m.look(method)
			c := fmt.Sprint(sty.GetForeground())
			if o, ok := seenG[g]; ok {
				t.Errorf("%s: %s and %s share glyph %q", th, o, method, g)
			}
			if o, ok := seenC[c]; ok {
				t.Errorf("%s: %s and %s share colour %s", th, o, method, c)
			}
			seenG[g], seenC[c] = method, method
		}
	}
}

// A task switch with baselines ticked runs them on the new task; "r"
// re-runs everything selected; "n" moves to a new seed and runs it all.
func TestSelectionDrivesRuns(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Press(m, settle, "b", " ", "esc")
	n := len(eng.Adapts)
	testutil.Exec(m, m.SetSuite("math-mc"), settle)
	got := map[string]bool{}
	for _, r := range eng.Adapts[n:] {
		if r.Suite == "math-mc" {
			got[r.Method] = true
		}
	}
	if !got["degaml"] || !got["nometa-lora"] || !got["base"] {
		t.Fatalf("task switch ran %v", got)
	}
	n = len(eng.Adapts)
	testutil.Press(m, settle, "r")
	if k := len(eng.Adapts) - n; k != 3 {
		t.Fatalf("r re-ran %d methods, want 3 (decoupled, nometa-lora, base): %v", k, eng.Adapts[n:])
	}
	n = len(eng.Adapts)
	testutil.Press(m, settle, "n")
	if m.Sel().Seed != 2 || len(eng.Adapts)-n != 3 || eng.Adapts[n].Seed != 2 {
		t.Fatalf("new seed: seed %d, %v", m.Sel().Seed, eng.Adapts[n:])
	}
	if !strings.Contains(m.View(), "math-mc#502") {
		t.Errorf("the header does not name the new instance:\n%s", m.View())
	}
}

// The step table lists validation trials in order, each headed by its
// hypothesis, the chosen one marked as the card says.
func TestStepTableTrials(t *testing.T) {
	m, _, _ := setup(t)
	m.SetSize(120, 40)
	_, lines := stepLines(m.c.Styles, m.Current(), 100)
	v := ansi.Strip(strings.Join(lines, "\n") + "\n" + m.View())
	i1 := strings.Index(v, "#1 TTT")
	i2 := strings.Index(v, "#2 SLOT")
	i3 := strings.Index(v, "#3 mixing")
	if i1 < 0 || i2 < i1 || i3 < i2 {
		t.Fatalf("trials out of order or missing:\n%s", v)
	}
	if !strings.Contains(v, "validation trial, chosen") || !strings.Contains(v, "Family: TTT (trial #1 in the table)") {
		t.Fatalf("chosen trial not marked consistently:\n%s", v)
	}
}

// With the table longer than its space, the arrow keys scroll it.
func TestStepTableScrolls(t *testing.T) {
	m, _, settle := setup(t)
	m.SetSize(120, 40)
	first := ansi.Strip(m.View())
	if !strings.Contains(first, "1–") || !strings.Contains(first, "#1 TTT") {
		t.Fatalf("finished run should open at its first trial:\n%s", first)
	}
	testutil.Press(m, settle, "j", "j", "j")
	if v := ansi.Strip(m.View()); !strings.Contains(v, "4–") || strings.Contains(v, "#1 TTT") {
		t.Fatalf("after scrolling down 3:\n%s", v)
	}
}

// Goldens of the chart in colour (ANSI 256, dark) and in the monochrome
// theme (attributes only); the NO_COLOR ones are TestGolden's (ASCII
// profile). In monochrome the curves differ by glyph alone.
func TestGoldenThemes(t *testing.T) {
	for _, c := range []struct {
		name, theme string
		profile     termenv.Profile
	}{{"colour", "dark", termenv.ANSI256}, {"monochrome", "monochrome", termenv.ANSI256}} {
		for _, sz := range testutil.Sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				eng := fakeengine.New()
				th, err := themes.Load(c.theme)
				if err != nil {
					t.Fatal(err)
				}
				r := lipgloss.NewRenderer(io.Discard)
				r.SetColorProfile(c.profile)
				r.SetHasDarkBackground(true)
				cm := common.New(t.Context(), eng, r, th, common.Config{Mouse: true})
				settle := testutil.Collect(cm, eng)
				m := New(cm)
				testutil.Exec(m, m.SetSuite("gsm-mc"), settle)
				testutil.Press(m, settle, "m", "b", " ", "down", "down", " ", "esc")
				testutil.RunGolden(t, m, sz[0], sz[1], nil)
			})
		}
	}
}

// Six methods on: the accuracy view draws one small panel per method
// (with the reference lines named) where they fit, one panel otherwise;
// the loss panel then keeps to query loss.
func TestManyMethodsSmallMultiples(t *testing.T) {
	m, _, settle := setup(t)
	testutil.Press(m, settle, "m", "b", " ", "down", " ", "down", " ", "down", " ", "esc", "v")
	m.SetSize(120, 36)
	v := ansi.Strip(m.View())
	if strings.Count(v, "1.00 ┤")+strings.Count(v, "1.0 ┤") != 6 || !strings.Contains(v, "one panel per method") || !strings.Contains(v, "--- base 0.31") {
		t.Fatalf("no small multiples:\n%s", v)
	}
	testutil.AssertFits(t, m.View(), 120, 36)
	m.SetSize(80, 20)
	if v := ansi.Strip(m.View()); strings.Contains(v, "one panel per method") {
		t.Fatalf("small multiples that cannot fit:\n%s", v)
	}
	for _, s := range m.LossSeries() {
		if strings.Contains(s.Name, "support") {
			t.Fatalf("support loss drawn with six methods: %s", s.Name)
		}
	}
}

// The note beside the chart keeps whole paragraphs: it never ends
// mid-sentence, whatever its height.
func TestNoteKeepsWholeParagraphs(t *testing.T) {
	m, _, settle := setup(t)
	testutil.Press(m, settle, "b", " ", "esc")
	for h := 1; h <= 30; h++ {
		out := strings.TrimRight(ansi.Strip(m.note(30, h)), " \n")
		if lipgloss.Height(out) > h {
			t.Fatalf("h=%d: %d lines", h, lipgloss.Height(out))
		}
		if out != "" && !strings.HasSuffix(out, ".") {
			t.Fatalf("h=%d: the note ends mid-sentence: %q", h, out[max(0, len(out)-40):])
		}
	}
}

// In the baseline checklist the wheel moves the cursor and a click on a
// baseline's row ticks it (and runs it).
func TestSelectorMouse(t *testing.T) {
	m, eng, settle := setup(t)
	m.SetSize(120, 38)
	testutil.Press(m, settle, "b")
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	row := -1
	for i, l := range lines {
		if strings.Contains(l, "maml-en-llm") {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("no checklist:\n%s", strings.Join(lines, "\n"))
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if m.sel.cursor != 1 {
		t.Fatalf("wheel: cursor %d", m.sel.cursor)
	}
	n := len(eng.Adapts)
	testutil.Exec(m, func() tea.Msg {
		return tea.MouseMsg{X: 5, Y: row + 1, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress}
	}, settle)
	if !m.Sel().Baselines["maml-en-llm"] || len(eng.Adapts) != n+1 || eng.Adapts[n].Method != "maml-en-llm" {
		t.Fatalf("click on row %d: ticked %v, runs %v", row, m.Sel().Baselines, eng.Adapts[n:])
	}
}

// With one method on the chart the loss panel draws its support loss too;
// its y axis reaches the highest support loss (above 1 here, above every
// query loss), not only the query losses'.
func TestLossAxisCoversSupportLoss(t *testing.T) {
	m, _, _ := setup(t)
	r := m.Current()
	if r == nil || len(r.Curve()) == 0 {
		t.Fatal("no decoupled curve")
	}
	top := 0.0
	for i := range r.Steps {
		v := 2.4 - 0.1*float64(i%5)
		r.Steps[i].Support = &v
		top = max(top, v)
	}
	m.c.Store.Version++
	for _, metric := range []int{ViewLoss, ViewAll} {
		m.Metric = metric
		m.SetSize(120, 40)
		view := ansi.Strip(m.View())
		hi := -1.0
		for _, line := range strings.Split(view, "\n") {
			for _, f := range strings.Split(line, "┤")[:max(0, strings.Count(line, "┤"))] {
				fs := strings.Fields(f)
				if len(fs) == 0 {
					continue
				}
				var y float64
				if _, err := fmt.Sscan(fs[len(fs)-1], &y); err == nil && y <= 10 {
					hi = max(hi, y)
				}
			}
		}
		if hi < top {
			t.Errorf("metric %d: the highest y tick is %g, below the support loss %g:\n%s", metric, hi, top, view)
		}
	}
}

// A run its user stopped (Ctrl-C, a disconnect) ends with events.Canceled:
// the status says cancelled, neither a failure nor a run still waiting.
func TestCanceledRunShowsCancelled(t *testing.T) {
	m, _, _ := setup(t)
	m.c.Store.AddRun("adapt-77", api.AdaptRequest{Suite: "gsm-mc", Method: string(MethodGen), Seed: m.Sel().Seed})
	m.c.Store.ToggleMode()
	if got := ansi.Strip(m.statusLine()); !strings.Contains(got, "running") && !strings.Contains(got, "queued") {
		t.Fatalf("before the cancel: %q", got)
	}
	m.c.Store.Apply([]events.Event{{Kind: events.Canceled, Run: "adapt-77", Method: string(MethodGen), Message: "interrupted"}})
	got := ansi.Strip(m.statusLine())
	if !strings.Contains(got, "cancelled") || strings.Contains(got, "failed") || strings.Contains(got, "running") {
		t.Fatalf("after the cancel: %q", got)
	}
}
