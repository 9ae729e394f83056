package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/bench"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/tasks/suites"
)

func init() {
	register("bench", "run the paper's results tables (methods × suites × seeds), resumable", cmdBench)
}

// benchFlags are `workbench bench`'s own flags.
type benchFlags struct {
	preset, methods, suites, plot string
	shard, protocol               string
	seeds                         int
	json, csv, md                 bool
}

// cmdBench is `workbench bench [--preset quick|paper] [--methods LIST]
// [--seeds N] [--suites LIST] [--json|--csv|--md] [--plot FILE.png]`.
func cmdBench(args []string) error {
	if len(args) > 0 && args[0] == "merge" {
		return benchMerge(os.Stdout, args[1:])
	}
	fs := newFlags("bench")
	var cf commonFlags
	cf.register(fs)
	var bf benchFlags
	fs.StringVar(&bf.preset, "preset", "", "budget preset: quick (≤ 15 min on 2 cores from scratch) or paper (default: config [bench].preset)")
	fs.StringVar(&bf.methods, "methods", "", "comma-separated methods (default: config [bench].methods)")
	fs.StringVar(&bf.suites, "suites", "", "comma-separated suites (default: all twelve)")
	fs.IntVar(&bf.seeds, "seeds", 0, "seeds per cell (default: config [bench].seeds, at most 3 for quick, at least 5 for paper)")
	fs.BoolVar(&bf.json, "json", false, "print one JSON object per (method, suite) cell")
	fs.BoolVar(&bf.csv, "csv", false, "print the cells as CSV")
	fs.BoolVar(&bf.md, "md", false, "print markdown tables (the default)")
	fs.StringVar(&bf.protocol, "protocol", pipeline.ProtocolPaper, "paper: each in-domain suite held out of meta-training in turn (the paper's rows); worlds: held-out worlds of suites seen in meta-training (upper reference)")
	fs.StringVar(&bf.plot, "plot", "", "also write a PNG: average accuracy bars with CIs, and mean adaptation curves")
	fs.StringVar(&bf.shard, "shard", "", "I/N: run only slice I (from 0) of N of the cells into its own results file; combine with `bench merge DIR...`")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("bench: unexpected argument %q", pos[0])
	}
	if n := benchB2I(bf.json) + benchB2I(bf.csv) + benchB2I(bf.md); n > 1 {
		return errors.New("bench: choose one of --json, --csv, --md")
	}
	if bf.plot != "" && !strings.HasSuffix(strings.ToLower(bf.plot), ".png") {
		return fmt.Errorf("bench: --plot %s: the plot is a PNG (name it FILE.png)", bf.plot)
	}

	cfg, err := cf.load()
	if err != nil {
		return err
	}
	presetName := bf.preset
	if presetName == "" {
		presetName = cfg.Bench.Preset
	}
	cfg, preset, err := bench.ApplyPreset(presetName, cfg)
	if err != nil {
		return err
	}
	plan, layout, err := benchPlan(bf, cfg.Bench.Methods, cfg.Bench.Seeds, preset)
	if err != nil {
		return err
	}
	if plan.Shard, err = bench.ParseShard(bf.shard); err != nil {
		return fmt.Errorf("bench: %w", err)
	}

	wb, err := pipeline.Open(cfg, cf.workdir)
	if err != nil {
		return err
	}
	defer wb.Close()
	if err := wb.SetProtocol(bf.protocol); err != nil {
		return fmt.Errorf("bench: --protocol: %w", err)
	}
	// The preset's method budgets (smaller meta-training for quick, larger for
	// paper) apply on top of what the config sets.
	opts := bench.MergeOptions(pipeline.MethodOptions(cfg), preset.Options)
	wb.SetMethodOptions(opts)
	ctx, stop := interruptible()
	defer stop()

	// The key hashes the protocol and the method budgets in effect (config and
	// preset), so a changed [methods.*] key starts a fresh results file.
	key := bench.Key(presetName+"-"+bf.protocol, cfg, opts)
	st, err := bench.OpenStore(filepath.Join(wb.Workdir(), "bench", bench.StoreFile(key, plan.Shard)))
	if err != nil {
		return err
	}
	defer st.Close()
	title := fmt.Sprintf("DeGAML Workbench bench — preset %s, protocol %s, model %s, %d seed(s)", presetName, bf.protocol, benchModelName(cfg.Model.HFDir, cfg.Model.Preset), len(plan.Seeds))
	if err := bench.WriteManifest(st.Path(), key, title, plan, layout); err != nil {
		return err
	}
	if st.Skipped > 0 {
		fmt.Fprintf(os.Stderr, "bench: %s: %d unreadable line(s) ignored\n", st.Path(), st.Skipped)
	}

	prog := &bench.Progress{W: os.Stderr, TTY: isTerminal(os.Stderr)}
	stopStages := benchShowStages(wb.Bus(), prog)
	defer stopStages()

	start := time.Now()
	runPlan := plan // benchPrepare may drop broken methods from the cells to run, not from the table
	dropped, runErr := benchPrepare(ctx, wb, &runPlan, st, prog)
	var sum bench.Summary
	if runErr == nil {
		sum, runErr = bench.Run(ctx, runPlan, benchRunner(wb), st, prog)
	}
	stopStages()
	prog.Done()

	t := bench.Build(title, plan, layout, st.Records())
	t.Chance = benchChance(plan)
	t.Protocol = bf.protocol
	if len(st.Records()) > 0 {
		if err := benchWriteLatest(wb.Workdir(), t); err != nil {
			return err
		}
	}
	if err := printBenchTable(os.Stdout, t, bf); err != nil {
		return err
	}
	if bf.plot != "" {
		if err := bench.SavePNG(bf.plot, t, bench.MethodCurves(benchRecords(st.Records(), plan))); err != nil {
			return fmt.Errorf("bench: --plot: %w", err)
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s (left: averages with 95%% CIs; right: mean adaptation curves)\n", bf.plot)
	}
	fmt.Fprintf(os.Stderr, "bench: %d cells run, %d resumed, %d failed in %s; tables in %s\n",
		sum.Ran, sum.Resumed, len(sum.Failed), time.Since(start).Round(time.Second), filepath.Join(wb.Workdir(), "bench"))
	switch {
	case errors.Is(runErr, context.Canceled):
		return errors.New("interrupted; finished cells and pipeline stages are kept: run the same command again to resume")
	case runErr != nil:
		return runErr
	case len(sum.Failed) > 0 || len(dropped) > 0:
		skipped := append(dropped, sum.SkippedMethods...)
		return fmt.Errorf("%d cell(s) failed, methods skipped: %s; the table shows the rest", len(sum.Failed), strings.Join(skipped, ", "))
	}
	return nil
}

// benchChance is uniform guessing's expected accuracy on the test items
// the plan evaluates, per suite.
func benchChance(plan bench.Plan) map[string]float64 {
	out := map[string]float64{}
	for _, su := range plan.Suites {
		f, err := suites.ByName(su)
		if err != nil {
			continue
		}
		sum, n := 0.0, 0
		for _, seed := range plan.Seeds {
			for _, ex := range pipeline.EvalTask(f, seed).Splits.Test {
				if len(ex.Options) > 0 {
					sum += 1 / float64(len(ex.Options))
					n++
				}
			}
		}
		if n > 0 {
			out[su] = sum / float64(n)
		}
	}
	return out
}

func benchB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

func benchModelName(hfDir, preset string) string {
	if hfDir != "" {
		return filepath.Base(hfDir)
	}
	return preset
}

// benchPlan resolves methods, suites and seeds from flags, config and preset.
func benchPlan(bf benchFlags, cfgMethods []string, cfgSeeds int, preset bench.Preset) (bench.Plan, bench.Layout, error) {
	var plan bench.Plan
	plan.Methods = cfgMethods
	if bf.methods != "" {
		plan.Methods = benchSplitList(bf.methods)
	}
	if len(plan.Methods) == 0 {
		return plan, bench.Layout{}, errors.New("bench: no methods")
	}
	for _, m := range plan.Methods {
		if !slices.Contains(meta.Names(), m) {
			return plan, bench.Layout{}, fmt.Errorf("bench: unknown method %q (have %s)", m, strings.Join(meta.Names(), ", "))
		}
	}
	names := suites.Names()
	if bf.suites != "" {
		names = benchSplitList(bf.suites)
	}
	layout, err := bench.SplitSuites(names)
	if err != nil {
		return plan, layout, fmt.Errorf("bench: %w", err)
	}
	plan.Suites = append(slices.Clone(layout.InDomain), layout.OutOfDomain...)
	// [bench].seeds, bounded by the preset in the direction of its purpose:
	// quick caps it to stay within its time budget, paper asks at least 5.
	n := max(cfgSeeds, 1)
	if preset.Name == "paper" {
		n = max(n, preset.Seeds)
	} else {
		n = min(n, preset.Seeds)
	}
	if bf.seeds > 0 {
		n = bf.seeds
	}
	plan.Seeds = bench.Seeds(n)
	return plan, layout, nil
}

func benchSplitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// benchPrepare runs the pipeline stages (base model, each method's
// meta-training) up front, timed, so the cell loop's ETA measures
// adaptation only. A method whose meta-training fails is dropped from the
// cells to run (its rows show "—") instead of being retrained per cell.
func benchPrepare(ctx context.Context, wb *pipeline.Workbench, plan *bench.Plan, st *bench.Store, prog *bench.Progress) (dropped []string, err error) {
	pending := map[string]bool{}
	for _, c := range plan.Cells() {
		if _, ok := st.Done(c); !ok {
			pending[c.Method] = true
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	t0 := time.Now()
	if _, err := wb.Base(ctx); err != nil {
		return nil, fmt.Errorf("base model: %w", err)
	}
	prog.Line(fmt.Sprintf("bench: base model ready (%s)", time.Since(t0).Round(time.Second)))
	// The meta-training pools the plan needs: under the paper protocol one
	// per held-out in-domain suite (and the full pool for out-of-domain).
	var pools []string
	for _, su := range plan.Suites {
		if h := pipeline.HeldOutSuite(wb.Protocol(), su); !slices.Contains(pools, h) {
			pools = append(pools, h)
		}
	}
	var keep []string
	for _, m := range plan.Methods {
		if !pending[m] {
			keep = append(keep, m)
			continue
		}
		var err error
		for _, h := range pools {
			t := time.Now()
			_, err = wb.ArtifactFor(ctx, m, h)
			if ctx.Err() != nil {
				return dropped, ctx.Err()
			}
			if err != nil {
				break
			}
			if d := time.Since(t); d > time.Second {
				what := "all in-domain suites"
				if h != "" {
					what = "all but " + h
				}
				prog.Line(fmt.Sprintf("bench: %s meta-training on %s ready (%s)", m, what, d.Round(time.Second)))
			}
		}
		if err != nil {
			prog.Line(fmt.Sprintf("bench: %s: %v; skipping its cells", m, err))
			dropped = append(dropped, m)
			continue
		}
		keep = append(keep, m)
	}
	plan.Methods = keep
	return dropped, nil
}

// benchRunner adapts and evaluates one cell through Workbench.RunTask, the
// code path the TUI and `workbench run` use; the run's events also go to the
// bus, so the work directory's run log keeps them.
func benchRunner(wb *pipeline.Workbench) bench.Runner {
	return func(ctx context.Context, c bench.Cell, pub func(events.Event)) (*events.ResultInfo, error) {
		f, err := suites.ByName(c.Suite)
		if err != nil {
			return nil, err
		}
		task := pipeline.EvalTask(f, c.Seed)
		id := fmt.Sprintf("bench-%s-%s-%d", c.Method, c.Suite, c.Seed)
		_, res, err := wb.RunTask(ctx, c.Method, task, c.Seed, api.Knobs{}, func(e events.Event) {
			e.Run = id
			pub(e)
			wb.Bus().Publish(e)
		})
		return res, err
	}
}

// benchShowStages prints pipeline stage events (base pretraining, meta-training)
// while the bench waits on them: a line when a stage starts or finishes, a
// live line for its steps on a terminal. The returned func stops it.
func benchShowStages(bus *events.Bus, prog *bench.Progress) func() {
	sub := bus.Subscribe(events.Coalesce)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			evs, ok := sub.Wait()
			for _, e := range evs {
				if e.Run != "" {
					continue // the bench's own cells report through prog
				}
				switch e.Kind {
				case events.StageStarted, events.StageFinished, events.Warning, events.Error:
					if line, _ := describe(e); line != "" {
						prog.Line(line)
					}
				case events.Step:
					if line, _ := describe(e); line != "" {
						prog.Status(strings.TrimSpace(line))
					}
				}
			}
			if !ok {
				return
			}
		}
	}()
	var once bool
	return func() {
		if !once {
			once = true
			sub.Close()
			<-done
		}
	}
}

// benchRecords keeps the records of the plan's cells (the results file may
// hold more seeds or methods from earlier runs).
func benchRecords(recs []bench.Record, plan bench.Plan) []bench.Record {
	var out []bench.Record
	for _, r := range recs {
		if slices.Contains(plan.Methods, r.Method) && slices.Contains(plan.Suites, r.Suite) && slices.Contains(plan.Seeds, r.Seed) {
			out = append(out, r)
		}
	}
	return out
}

// benchWriteLatest leaves the table where LatestBench (the TUI's results pane)
// reads it, plus its markdown, each written atomically.
func benchWriteLatest(workdir string, t *bench.Table) error {
	b, err := json.MarshalIndent(t.API(), "", "  ")
	if err != nil {
		return err
	}
	if err := benchWriteAtomic(pipeline.LatestBenchPath(workdir), append(b, '\n')); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := t.Markdown(&md); err != nil {
		return err
	}
	return benchWriteAtomic(filepath.Join(filepath.Dir(pipeline.LatestBenchPath(workdir)), "latest.md"), md.Bytes())
}

func benchWriteAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func printBenchTable(w io.Writer, t *bench.Table, bf benchFlags) error {
	switch {
	case bf.json:
		return t.JSON(w)
	case bf.csv:
		return t.CSV(w)
	}
	return t.Markdown(w)
}
