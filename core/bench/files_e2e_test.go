package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/tasks"
)

// tinyBudgets is a config that makes every method's meta-training and
// adaptation a handful of steps on tiny-qwen2: the test checks the paths
// and the protocol, not accuracy.
const tinyBudgets = `
[model]
hf_dir = %q
[lora]
rank = 2
alpha = 4.0
targets = ["q_proj", "v_proj"]
[adapt]
inner_steps = 2
support = 3
[methods.nometa-lora]
batch = 2
[methods.union-lora]
steps = 3
batch = 2
[methods.maml-en-llm]
meta_steps = 2
tasks_per_step = 2
inner_steps = 1
support = 2
query = 2
[methods.abmll]
meta_steps = 2
tasks_per_step = 2
inner_steps = 1
samples = 2
[methods.degaml]
collect_tasks = 3
collect_pre_steps = 3
collect_fine_steps = 2
prompt_batch = 2
policy_tasks = 1
policy_iterations = 1
policy_hypotheses = 3
`

// WriteDnDFiles writes a small DnD-format file per dataset into dir, n
// items each, with questions that differ between datasets.
func writeDnDFiles(t *testing.T, dir string, n int, names ...string) []string {
	t.Helper()
	var out []string
	for _, name := range names {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `{"prompt":"In %s, which word follows %d?\nA: red\nB: green\nC: blue\nD: black","response":"[%c]","system":"Answer with the letter."}`+"\n",
				name, i, 'A'+rune(i%4))
		}
		p := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// filesWorkbench opens a workbench on tiny-qwen2 with tiny budgets and the
// task set: three in-domain files and one out-of-domain file.
func filesWorkbench(t *testing.T) (*pipeline.Workbench, *config.Config, *pipeline.TaskSet) {
	t.Helper()
	model := filepath.Join(testref.Dir(t), "tiny-qwen2")
	d, err := os.ReadFile("../../workbench.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	toml := filepath.Join(dir, "tiny.toml")
	if err := os.WriteFile(toml, []byte(fmt.Sprintf(tinyBudgets, model)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(d, toml)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Engine.Backend = "go:parallelism=-1" // GoMLX's default configuration can deadlock (GOMLX-NOTES.md)
	var files []pipeline.TaskFile
	for _, p := range writeDnDFiles(t, dir, 12, "alpha", "beta", "gamma") {
		files = append(files, pipeline.TaskFile{Path: p, Role: tasks.InDomain})
	}
	ood := writeDnDFiles(t, dir, 12, "delta")[0]
	files = append(files, pipeline.ParseTaskFile("far="+ood, tasks.OutOfDomain))
	set, err := pipeline.LoadTaskFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := pipeline.Open(cfg, filepath.Join(dir, "work"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wb.Close() })
	if err := wb.SetTaskSet(set); err != nil {
		t.Fatal(err)
	}
	return wb, cfg, set
}

// TestBenchOverFilesEndToEnd is the paper's table from a researcher's own
// files: a real HF checkpoint (tiny-qwen2), three in-domain files and one
// out-of-domain file, every method, the paper protocol. Each in-domain
// file must be held out of its own cells' meta-training, the table's
// columns are the files' dataset names, and every cell is a finite number.
func TestBenchOverFilesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-trains every method on tiny-qwen2")
	}
	wb, cfg, set := filesWorkbench(t)
	if err := wb.SetProtocol(pipeline.ProtocolPaper); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	plan, layout, err := NewPlan(Request{Files: set, Seeds: 1}, meta.Names(), 1, Preset{Name: "quick", Seeds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(layout.InDomain, []string{"alpha", "beta", "gamma"}) || !slices.Equal(layout.OutOfDomain, []string{"far"}) {
		t.Fatalf("layout %+v", layout)
	}
	st, err := OpenStore(filepath.Join(wb.Workdir(), "bench", StoreFile(KeyWithTasks("quick-paper-files", cfg, pipeline.MethodOptions(cfg), wb.TaskSetKey()), Shard{})))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runPlan := plan
	dropped, err := Prepare(ctx, wb, &runPlan, st, nil)
	if err != nil || len(dropped) > 0 {
		t.Fatalf("prepare: dropped %v, %v", dropped, err)
	}
	sum, err := Run(ctx, runPlan, PipelineRunner(wb), st, nil)
	if err != nil || len(sum.Failed) > 0 {
		t.Fatalf("run: %v, failed %+v", err, sum.Failed)
	}
	if sum.Ran != len(meta.Names())*4 {
		t.Errorf("%d cells ran, want %d", sum.Ran, len(meta.Names())*4)
	}

	tb := Build("files", plan, layout, st.Records())
	tb.Chance = ChanceOn(wb, plan)
	for _, m := range meta.Names() {
		for _, col := range layout.Columns() {
			s := tb.Cell(m, col)
			if s.Seeds != 1 || math.IsNaN(s.Mean) || math.IsInf(s.Mean, 0) || s.Mean < 0 || s.Mean > 1 {
				t.Errorf("%s on %s: %+v", m, col, s)
			}
		}
	}
	for _, r := range st.Records() {
		if want := len(set.Task(r.Suite).Splits.Test); r.N != want {
			t.Errorf("%s on %s: evaluated %d items, the file's test split has %d", r.Method, r.Suite, r.N, want)
		}
	}
	if c := tb.Chance["far"]; math.Abs(c-0.25) > 1e-12 {
		t.Errorf("chance on far = %v, want 0.25 (four options)", c)
	}
	var md strings.Builder
	if err := tb.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	t.Log(md.String())
	for _, want := range []string{" alpha |", " gamma |", " far |", "| DeGAML |", "| MAML-en-LLM |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}

	// The paper protocol over files, as cached on disk: each method that
	// meta-trains has one artifact per held-out in-domain file plus the
	// full pool (for the out-of-domain file), and never one that saw
	// nothing held out for an in-domain cell.
	ents, err := os.ReadDir(filepath.Join(wb.Workdir(), "meta"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range ents {
		dirs = append(dirs, e.Name())
	}
	for _, m := range []string{meta.UnionLoRA, meta.MAMLEnLLM, meta.ABMLL, meta.DeGAML} {
		for _, want := range []string{m + "-without-alpha-", m + "-without-beta-", m + "-without-gamma-", m + "-"} {
			n := 0
			for _, d := range dirs {
				if strings.HasPrefix(d, want) && (want != m+"-" || !strings.Contains(d, "without")) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d artifact(s) %s* in %v", n, want, dirs)
			}
		}
	}
}

// TestRunOnOneFile is `run --tasks FILE`'s path: one adaptation through
// the API front ends use, on a dataset of the task set, ending in a result
// evaluated on that file's test items.
func TestRunOnOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("adapts tiny-qwen2")
	}
	wb, _, set := filesWorkbench(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sub := wb.Bus().Subscribe(events.Lossless)
	defer sub.Close()
	id, err := wb.Adapt(ctx, api.AdaptRequest{Suite: "beta", Method: meta.NoMetaLoRA, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	var steps int
	for {
		evs, ok := sub.Wait()
		for _, e := range evs {
			if e.Run != id {
				continue
			}
			switch e.Kind {
			case events.Step:
				steps++
			case events.Error:
				t.Fatalf("adaptation failed: %s", e.Message)
			case events.Result:
				r := e.Result
				t.Logf("%s on %s: accuracy %.3f on %d items, %d step events, %.2fs", r.Method, r.Task, r.Accuracy, r.N, steps, r.WallS)
				if r.Task != "beta" || r.N != len(set.Task("beta").Splits.Test) || math.IsNaN(r.Accuracy) || steps == 0 {
					t.Errorf("result %+v after %d step events", r, steps)
				}
				return
			}
		}
		if !ok || ctx.Err() != nil {
			t.Fatal("no result before the deadline")
		}
	}
}
