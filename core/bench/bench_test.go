package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func rec(method, suite string, seed int64, acc float64, ece ...float64) Record {
	r := Record{Method: method, Suite: suite, Seed: seed, Accuracy: acc, N: 40, WallS: float64(seed)}
	if len(ece) > 0 {
		r.ECE = events.F(ece[0])
	}
	return r
}

func TestSuiteMeanAndCI(t *testing.T) {
	plan := Plan{Methods: []string{"m"}, Suites: []string{"arc-easy"}, Seeds: Seeds(3)}
	tb := Build("t", plan, Layout{InDomain: []string{"arc-easy"}}, []Record{
		rec("m", "arc-easy", 1, 0.5), rec("m", "arc-easy", 2, 0.6), rec("m", "arc-easy", 3, 0.7),
	})
	c := tb.Cell("m", "arc-easy")
	// mean 0.6, s = 0.1, t(0.975, 2) = 4.303 → 4.303·0.1/√3.
	near(t, "mean", c.Mean, 0.6)
	near(t, "ci95", c.CI95, 4.303*0.1/math.Sqrt(3))
	near(t, "wall", c.WallS, 2)
	if c.Seeds != 3 || c.String() != "60.0 ± 24.8" {
		t.Errorf("cell %+v renders %q", c, c.String())
	}
}

func TestOneSeedHasNoInterval(t *testing.T) {
	plan := Plan{Methods: []string{"m"}, Suites: []string{"boolq"}, Seeds: Seeds(2)}
	tb := Build("t", plan, Layout{InDomain: []string{"boolq"}}, []Record{rec("m", "boolq", 1, 0.25)})
	c := tb.Cell("m", "boolq")
	if !math.IsNaN(c.CI95) || c.String() != "25.0" || !c.Incomplete() {
		t.Errorf("one of two seeds: %+v %q", c, c.String())
	}
	if j := tb.JSONCells()[0]; j.CI95 != nil || *j.Mean != 0.25 {
		t.Errorf("json cell %+v: want null ci95", j)
	}
}

// The block average is computed per seed over the block's suites, then
// summarized over seeds; a seed missing a suite is left out.
func TestAverageOfAverages(t *testing.T) {
	plan := Plan{Methods: []string{"m"}, Suites: []string{"arc-easy", "boolq", "gsm-mc"}, Seeds: Seeds(3)}
	layout := Layout{InDomain: []string{"arc-easy", "boolq"}, OutOfDomain: []string{"gsm-mc"}}
	tb := Build("t", plan, layout, []Record{
		rec("m", "arc-easy", 1, 0.4, 0.1), rec("m", "boolq", 1, 0.6, 0.3), // seed 1 avg 0.5, ECE 0.2
		rec("m", "arc-easy", 2, 0.6, 0.2), rec("m", "boolq", 2, 0.8, 0.2), // seed 2 avg 0.7, ECE 0.2
		rec("m", "arc-easy", 3, 1.0), // seed 3 lacks boolq: not in the average
		rec("m", "gsm-mc", 1, 0.3),
	})
	avg := tb.Cell("m", AvgInDomain)
	// Per-seed averages 0.5, 0.7: mean 0.6, s = √0.02, t(1) = 12.706 → 12.706·√0.02/√2 = 1.2706.
	near(t, "avg mean", avg.Mean, 0.6)
	near(t, "avg ci95", avg.CI95, 12.706*math.Sqrt(0.02)/math.Sqrt(2))
	if avg.Seeds != 2 {
		t.Errorf("avg seeds = %d, want 2", avg.Seeds)
	}
	near(t, "avg ece", avg.ECE, 0.2)
	near(t, "avg ece ci", avg.ECECI95, 0)
	// arc-easy alone averages all three seeds.
	near(t, "arc-easy mean", tb.Cell("m", "arc-easy").Mean, (0.4+0.6+1.0)/3)
	ood := tb.Cell("m", AvgOutOfDomain)
	near(t, "ood mean", ood.Mean, 0.3)
	if ood.Seeds != 1 || ood.ECESeeds != 0 {
		t.Errorf("ood %+v", ood)
	}
}

// goldenTable is a small but complete bench: three methods, two suites per
// block, two seeds, one cell short of a seed.
func goldenTable() *Table {
	plan := Plan{Methods: []string{"base", "degaml-gen", "degaml"},
		Suites: []string{"arc-easy", "boolq", "gsm-mc", "logic"}, Seeds: Seeds(2)}
	layout, _ := SplitSuites(plan.Suites)
	var recs []Record
	acc := map[string]float64{"base": 0.30, "degaml-gen": 0.40, "degaml": 0.55}
	for _, m := range plan.Methods {
		for si, su := range plan.Suites {
			for _, s := range plan.Seeds {
				if m == "degaml" && su == "logic" && s == 2 {
					continue
				}
				a := acc[m] + 0.05*float64(si) + 0.02*float64(s)
				if m == "base" {
					recs = append(recs, rec(m, su, s, a))
				} else {
					recs = append(recs, rec(m, su, s, a, 0.1*float64(s)))
				}
			}
		}
	}
	t := Build("Golden bench", plan, layout, recs)
	t.Chance = map[string]float64{"arc-easy": 0.25, "boolq": 0.5, "gsm-mc": 0.25, "logic": 0.25}
	return t
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := goldenTable().Markdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.md", b.Bytes())
}

func TestCSVGolden(t *testing.T) {
	var b bytes.Buffer
	if err := goldenTable().CSV(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.csv", b.Bytes())
}

func TestJSONFields(t *testing.T) {
	var b bytes.Buffer
	tb := goldenTable()
	if err := tb.JSON(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3*6 { // 3 methods × (4 suites + 2 averages)
		t.Fatalf("%d lines", len(lines))
	}
	var suitesSeen []string
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"method", "suite", "mean", "ci95", "seeds", "wall_s"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i, k, l)
			}
		}
		for k := range m {
			if !slices.Contains([]string{"method", "suite", "mean", "ci95", "seeds", "wall_s", "ece", "ece_ci95"}, k) {
				t.Errorf("unexpected field %q", k)
			}
		}
		if m["method"] == "base" {
			suitesSeen = append(suitesSeen, m["suite"].(string))
		}
	}
	want := []string{"arc-easy", "boolq", "gsm-mc", "logic", AvgInDomain, AvgOutOfDomain}
	if !slices.Equal(suitesSeen, want) {
		t.Errorf("suites %v, want %v", suitesSeen, want)
	}
	// degaml on logic has one seed: its ci95 is null, not 0 and not NaN.
	var c JSONCell
	_ = json.Unmarshal([]byte(lines[2*6+3]), &c)
	if c.Method != "degaml" || c.Suite != "logic" || c.Seeds != 1 || c.CI95 != nil {
		t.Errorf("incomplete cell %+v", c)
	}
}

func TestAPITable(t *testing.T) {
	bt := goldenTable().API()
	if !slices.Equal(bt.Columns, []string{"arc-easy", "boolq", "gsm-mc", "logic", AvgInDomain, AvgOutOfDomain}) {
		t.Errorf("columns %v", bt.Columns)
	}
	if len(bt.Rows) != 3 || bt.Rows[2].Method != "degaml" {
		t.Fatalf("rows %+v", bt.Rows)
	}
	c := bt.Rows[2].Cells[3] // degaml / logic: one seed → CI 0, N 1
	if c.N != 1 || c.CI95 != 0 || math.Abs(c.Mean-(0.55+0.15+0.02)) > 1e-12 {
		t.Errorf("cell %+v", c)
	}
	if _, err := json.Marshal(bt); err != nil {
		t.Errorf("latest.json must marshal (no NaN): %v", err)
	}
}

func TestPNG(t *testing.T) {
	curves := map[string][]Curve{
		"maml-en-llm": {{Phase: "inner", Points: []CurvePoint{
			{Step: 1, SupportLoss: events.F(2), QueryLoss: events.F(2.2), N: 1},
			{Step: 2, SupportLoss: events.F(1.5), QueryLoss: events.F(1.9), N: 1}}}},
		"degaml": {{Phase: "ttt", Points: []CurvePoint{{Step: 1, SupportLoss: events.F(1.2)}, {Step: 2, SupportLoss: events.F(1.0)}}},
			{Phase: "tts", Points: []CurvePoint{{Step: 1}}}}, // no loss: not drawn
	}
	var b bytes.Buffer
	if err := WritePNG(&b, goldenTable(), curves); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("BENCH_PNG_OUT"); out != "" { // for eyeballing the layout
		_ = os.WriteFile(out, b.Bytes(), 0o644)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != 2200 || sz.Y != 600 {
		t.Errorf("size %v, want 2200×600 (bars, accuracy by step, loss by step)", sz)
	}
	colors := map[uint32]bool{}
	for y := 0; y < 600; y += 3 {
		for x := 0; x < 2200; x += 3 {
			r, g, bb, _ := img.At(x, y).RGBA()
			colors[r>>8<<16|g>>8<<8|bb>>8] = true
		}
	}
	if len(colors) < 8 {
		t.Errorf("only %d distinct colors: the plot looks empty", len(colors))
	}
	// No curves at all still yields a valid image.
	b.Reset()
	if err := WritePNG(&b, goldenTable(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatal(err)
	}
}

func TestCurves(t *testing.T) {
	r := newCurveRecorder()
	for _, e := range []events.Event{
		{Kind: events.Step, Phase: "ttt", Step: 1, SupportLoss: events.F(2)}, // hypothesis 1
		{Kind: events.Step, Phase: "ttt", Step: 2, SupportLoss: events.F(1)},
		{Kind: events.Step, Phase: "ttt", Step: 1, SupportLoss: events.F(4)}, // hypothesis 2
		{Kind: events.Step, Phase: "slot", Step: 1, Accuracy: events.F(0.5)},
		{Kind: events.Result, Phase: "ttt", Step: 1, SupportLoss: events.F(100)}, // not a step
	} {
		r.observe(e)
	}
	cs := r.curves()
	if len(cs) != 2 || cs[0].Phase != "slot" || cs[1].Phase != "ttt" {
		t.Fatalf("curves %+v", cs)
	}
	ttt := cs[1].Points
	if len(ttt) != 2 || ttt[0].N != 2 || *ttt[0].SupportLoss != 3 || *ttt[1].SupportLoss != 1 || ttt[0].QueryLoss != nil {
		t.Errorf("ttt %+v", ttt)
	}
	// Per method, each run weighs once: runs with step-1 means 3 and 1 → 2.
	recs := []Record{{Method: "degaml", Curves: cs},
		{Method: "degaml", Curves: []Curve{{Phase: "ttt", Points: []CurvePoint{{Step: 1, SupportLoss: events.F(1), N: 5}}}}}}
	mc := MethodCurves(recs)["degaml"]
	if len(mc) != 2 || *mc[1].Points[0].SupportLoss != 2 || mc[1].Points[0].N != 2 || *mc[1].Points[1].SupportLoss != 1 {
		t.Errorf("method curves %+v", mc)
	}
	// A step only one run in three reaches is dropped (composition bias).
	long := Curve{Phase: "slot", Points: []CurvePoint{{Step: 1, SupportLoss: events.F(3)}, {Step: 2, SupportLoss: events.F(3)}, {Step: 3, SupportLoss: events.F(0.1)}}}
	short := Curve{Phase: "slot", Points: []CurvePoint{{Step: 1, SupportLoss: events.F(1)}, {Step: 2, SupportLoss: events.F(1)}}}
	one := Curve{Phase: "slot", Points: []CurvePoint{{Step: 1, SupportLoss: events.F(2)}}}
	sc := MethodCurves([]Record{{Method: "d", Curves: []Curve{long}}, {Method: "d", Curves: []Curve{short}}, {Method: "d", Curves: []Curve{one}}})["d"]
	if len(sc) != 1 || len(sc[0].Points) != 2 || *sc[0].Points[0].SupportLoss != 2 || *sc[0].Points[1].SupportLoss != 2 {
		t.Errorf("slot curve %+v", sc)
	}
}

// fakeRunner returns accuracy derived from the cell and counts calls.
type fakeRunner struct {
	calls []Cell
	fail  map[string]bool
	flag  map[string]string // method → the ResultInfo.Flag its runs report
	after int               // cancel the context on this call (1-based); 0 = never
	stop  context.CancelFunc
}

func (f *fakeRunner) run(ctx context.Context, c Cell, pub func(events.Event)) (*events.ResultInfo, error) {
	f.calls = append(f.calls, c)
	if f.after > 0 && len(f.calls) == f.after {
		f.stop()
		return nil, ctx.Err()
	}
	if f.fail[c.Method] {
		return nil, errors.New("meta-training diverged")
	}
	pub(events.Event{Kind: events.Step, Phase: "inner", Step: 1, Total: 1, SupportLoss: events.F(1)})
	return &events.ResultInfo{Method: c.Method, Suite: c.Suite, Task: c.Suite + "#1", Seed: c.Seed,
		Accuracy: 0.5, N: 10, WallS: 0.1, Flag: f.flag[c.Method]}, nil
}

// A flagged result (e.g. a diverged adaptation) is kept in the results file,
// said on the progress line, and marked in the tables: per suite and in
// the block average it enters.
func TestFlaggedRunsAreSurfaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan{Methods: []string{"ok", "wild"}, Suites: []string{"arc-easy", "boolq"}, Seeds: Seeds(2)}
	const why = "diverged: loss exploded from 1.4 to 5.6"
	f := &fakeRunner{flag: map[string]string{"wild": why}}
	var log bytes.Buffer
	if _, err := Run(context.Background(), plan, f.run, st, &Progress{W: &log}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if got := strings.Count(log.String(), "FLAGGED "+why); got != 4 {
		t.Errorf("%d progress lines name the flag, want 4 (one per wild cell):\n%s", got, log.String())
	}
	st, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs := st.Records()
	layout, _ := SplitSuites(plan.Suites)
	tb := Build("t", plan, layout, recs)
	if c := tb.Cell("wild", "boolq"); c.Flagged != 2 {
		t.Errorf("wild/boolq flagged %d seeds, want 2", c.Flagged)
	}
	if c := tb.Cell("wild", AvgInDomain); c.Flagged != 2 {
		t.Errorf("wild's average flagged %d seeds, want 2", c.Flagged)
	}
	if c := tb.Cell("ok", "boolq"); c.Flagged != 0 {
		t.Errorf("ok/boolq flagged %d", c.Flagged)
	}
	var md bytes.Buffer
	if err := tb.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "50.0 ± 0.0 ‡") || !strings.Contains(md.String(), "‡ includes 4 flagged run(s)") {
		t.Errorf("markdown does not mark the flagged cells:\n%s", md.String())
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "| Base") || strings.HasPrefix(line, "| ok") {
			if strings.Contains(line, "‡") {
				t.Errorf("an unflagged row is marked: %s", line)
			}
		}
	}
	if bt := tb.API(); bt.Rows[1].Method != "wild" || bt.Rows[1].Cells[0].Flagged != 2 || bt.Rows[0].Cells[0].Flagged != 0 {
		t.Errorf("the facade's table loses the flags: %+v", bt.Rows)
	}
	for _, c := range tb.JSONCells() {
		want := map[string]int{"ok": 0, "wild": 2}[c.Method]
		if c.Seeds == 0 {
			want = 0 // the empty out-of-domain block
		}
		if c.Flagged != want {
			t.Errorf("json cell %s/%s flagged %d, want %d", c.Method, c.Suite, c.Flagged, want)
		}
	}
}

func TestResumeSkipsFinishedCells(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench", "results-k.jsonl")
	plan := Plan{Methods: []string{"a", "b"}, Suites: []string{"boolq", "piqa"}, Seeds: Seeds(2)}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeRunner{after: 3, stop: cancel}
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sum, err := Run(ctx, plan, f.run, st, &Progress{W: &log})
	if !errors.Is(err, context.Canceled) || sum.Ran != 2 {
		t.Fatalf("interrupted run: %+v, %v", sum, err)
	}
	st.Close()
	if !strings.Contains(log.String(), "interrupted") {
		t.Errorf("log:\n%s", log.String())
	}

	// A crash mid-append leaves a torn line; it must not break the resume.
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"method":"a","sui`)
	fh.Close()

	st, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(path); err == nil || !strings.Contains(err.Error(), "another") {
		t.Errorf("a second bench on the same file must be refused, got %v", err)
	}
	if n := len(st.Records()); n != 2 {
		t.Fatalf("%d records after reopen, want 2", n)
	}
	g := &fakeRunner{}
	log.Reset()
	sum, err = Run(context.Background(), plan, g.run, st, &Progress{W: &log})
	if err != nil || sum.Resumed != 2 || sum.Ran != 6 || len(g.calls) != 6 {
		t.Fatalf("resume: %+v, %v, calls %v", sum, err, g.calls)
	}
	// The interrupted third cell (b/boolq/1) runs again; the two finished don't.
	if g.calls[0] != (Cell{"b", "boolq", 1}) {
		t.Errorf("resume started at %v", g.calls[0])
	}
	for _, c := range g.calls {
		if c == (Cell{"a", "boolq", 1}) || c == (Cell{"a", "piqa", 1}) {
			t.Errorf("re-ran finished cell %v", c)
		}
	}
	if !strings.Contains(log.String(), "2 of 8 cells already done") || !strings.Contains(log.String(), "ETA") {
		t.Errorf("progress log:\n%s", log.String())
	}
	st.Close()
	// The file now parses to all 8 cells with their curves.
	st2, _ := OpenStore(path)
	defer st2.Close()
	recs := st2.Records()
	if len(recs) != 8 || st2.Skipped != 0 || len(recs[7].Curves) != 1 {
		t.Errorf("reread %d records (%d skipped): %+v", len(recs), st2.Skipped, recs[len(recs)-1])
	}
	// A third run has nothing to do.
	h := &fakeRunner{}
	if sum, _ := Run(context.Background(), plan, h.run, st2, nil); len(h.calls) != 0 || sum.Resumed != 8 {
		t.Errorf("third run called %v", h.calls)
	}
}

func TestBrokenMethodIsSkipped(t *testing.T) {
	st, err := OpenStore(filepath.Join(t.TempDir(), "r.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plan := Plan{Methods: []string{"ok", "bad"}, Suites: []string{"boolq", "piqa"}, Seeds: Seeds(1)}
	f := &fakeRunner{fail: map[string]bool{"bad": true}}
	sum, err := Run(context.Background(), plan, f.run, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// "bad" is tried once; its second cell is skipped, not retried.
	if len(f.calls) != 3 || sum.Ran != 2 || len(sum.Failed) != 2 || !slices.Equal(sum.SkippedMethods, []string{"bad"}) {
		t.Errorf("calls %v, summary %+v", f.calls, sum)
	}
}

func TestPlanOrderIsSeedMajor(t *testing.T) {
	cells := Plan{Methods: []string{"a", "b"}, Suites: []string{"x"}, Seeds: Seeds(2)}.Cells()
	want := []Cell{{"a", "x", 1}, {"b", "x", 1}, {"a", "x", 2}, {"b", "x", 2}}
	if !slices.Equal(cells, want) {
		t.Errorf("cells %v", cells)
	}
}

func TestPresetsAndKey(t *testing.T) {
	base := &config.Config{Pipeline: config.Pipeline{PretrainSteps: 600, TrainInstances: 24, Workdir: "/a"},
		LoRA: config.LoRA{Targets: []string{"q_proj"}}}
	q, qp, err := ApplyPreset("quick", base)
	if err != nil {
		t.Fatal(err)
	}
	if q.Pipeline.TrainInstances >= base.Pipeline.TrainInstances || qp.Seeds != 3 || base.Pipeline.TrainInstances != 24 {
		t.Errorf("quick must shrink a copy: %+v (orig %+v)", q.Pipeline, base.Pipeline)
	}
	p, pp, _ := ApplyPreset("paper", base)
	if p.Pipeline.PretrainSteps < 1200 || pp.Seeds != 5 {
		t.Errorf("paper %+v seeds %d", p.Pipeline, pp.Seeds)
	}
	if _, _, err := ApplyPreset("huge", base); err == nil {
		t.Error("unknown preset accepted")
	}
	kq, kp := Key("quick", q, qp.Options), Key("paper", p, pp.Options)
	if kq == kp || !strings.HasPrefix(kq, "quick-") {
		t.Errorf("keys %s %s", kq, kp)
	}
	moved := *q
	moved.Pipeline.Workdir = "/elsewhere"
	if Key("quick", &moved, qp.Options) != kq {
		t.Error("the work directory must not change the key")
	}
	moved.Adapt.InnerSteps++
	if Key("quick", &moved, qp.Options) == kq {
		t.Error("a budget change must change the key")
	}
	if Key("quick", q, meta.Options{}) == kq {
		t.Error("method options must be part of the key")
	}
}

func TestMergeOptions(t *testing.T) {
	base := meta.Options{}
	base.NoMeta.Steps, base.NoMeta.LR, base.MAML.MetaSteps = 40, 0.01, 60
	base.DeGAML.TTTSteps = []int{1}
	over := meta.Options{}
	over.MAML.MetaSteps, over.DeGAML.GenSteps = 30, 250
	got := MergeOptions(base, over)
	if got.NoMeta.Steps != 40 || got.NoMeta.LR != 0.01 || got.MAML.MetaSteps != 30 || got.DeGAML.GenSteps != 250 || len(got.DeGAML.TTTSteps) != 1 {
		t.Errorf("merged %+v", got)
	}
}

func TestSplitSuites(t *testing.T) {
	l, err := SplitSuites([]string{"gsm-mc", "arc-easy", "code", "piqa"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(l.InDomain, l.OutOfDomain) != "[arc-easy piqa] [gsm-mc code]" {
		t.Errorf("%v", l)
	}
	if _, err := SplitSuites([]string{"nope"}); err == nil {
		t.Error("unknown suite accepted")
	}
}

func TestETA(t *testing.T) {
	e := newEstimator([]Record{{Method: "a", WallS: 1}, {Method: "a", WallS: 3}, {Method: "b", WallS: 10}})
	// a: mean 2 s; b: 10 s; unseen c: the slowest mean, 10 s; skipped d: nothing.
	got := e.remaining([]Cell{{Method: "a"}, {Method: "b"}, {Method: "c"}, {Method: "d"}}, map[string]error{"d": errors.New("x")})
	if got.Seconds() != 22 {
		t.Errorf("ETA %v, want 22s", got)
	}
	if fmtDur(got) != "22s" || fmtDur(3725e9) != "1h02m" || fmtDur(125e9) != "2m05s" {
		t.Errorf("fmtDur: %s %s %s", fmtDur(got), fmtDur(3725e9), fmtDur(125e9))
	}
}

// Each block's chance level is the mean of its suites' chance; the curve
// panels plot one metric each, naming the methods that did not report it
// instead of mixing support and query losses on one axis.
func TestPlotReferencesAndMetrics(t *testing.T) {
	tb := goldenTable()
	if c := blockChance(tb, tb.Layout.InDomain); math.Abs(c-0.375) > 1e-12 { // arc-easy 0.25, boolq 0.5
		t.Errorf("in-domain chance %v", c)
	}
	if c := blockChance(tb, tb.Layout.OutOfDomain); math.Abs(c-0.25) > 1e-12 {
		t.Errorf("out-of-domain chance %v", c)
	}
	if c := blockChance(&Table{}, nil); !math.IsNaN(c) {
		t.Errorf("no chance levels: %v", c)
	}
	curves := map[string][]Curve{
		"maml-en-llm": {{Phase: "inner", Points: []CurvePoint{{Step: 1, QueryLoss: events.F(2.2), Accuracy: events.F(0.4)}}}},
		"degaml":      {{Phase: "ttt", Points: []CurvePoint{{Step: 1, SupportLoss: events.F(1.2)}}}},
	}
	p, err := curvePlot(tb.Methods, curves, queryLossMetric, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Title.Text, "not reported by: degaml") || p.Y.Label.Text != "query loss (CE)" {
		t.Errorf("loss panel %q / %q", p.Title.Text, p.Y.Label.Text)
	}
	a, err := curvePlot(tb.Methods, curves, accuracyMetric, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if a.Y.Min != 0 || a.Y.Max < 100 || a.Y.Label.Text != "accuracy %" {
		t.Errorf("accuracy axis %v..%v %q", a.Y.Min, a.Y.Max, a.Y.Label.Text)
	}
}
