package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/degaml/workbench/core/bench"
	"github.com/degaml/workbench/core/pipeline"
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
	plan, layout, err := bench.NewPlan(bench.Request{Methods: bf.methods, Suites: bf.suites, Seeds: bf.seeds}, cfg.Bench.Methods, cfg.Bench.Seeds, preset)
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
	stopStages := bench.FollowStages(wb.Bus(), prog)
	defer stopStages()

	start := time.Now()
	runPlan := plan // bench.Prepare may drop broken methods from the cells to run, not from the table
	dropped, runErr := bench.Prepare(ctx, wb, &runPlan, st, prog)
	var sum bench.Summary
	if runErr == nil {
		sum, runErr = bench.Run(ctx, runPlan, bench.PipelineRunner(wb), st, prog)
	}
	stopStages()
	prog.Done()

	t := bench.Build(title, plan, layout, st.Records())
	t.Chance = bench.Chance(plan)
	t.Protocol = bf.protocol
	if len(st.Records()) > 0 {
		if err := bench.WriteLatest(wb.Workdir(), t); err != nil {
			return err
		}
	}
	if err := printBenchTable(os.Stdout, t, bf); err != nil {
		return err
	}
	if bf.plot != "" {
		if err := bench.SavePNG(bf.plot, t, bench.MethodCurves(plan.Records(st.Records()))); err != nil {
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

func printBenchTable(w io.Writer, t *bench.Table, bf benchFlags) error {
	switch {
	case bf.json:
		return t.JSON(w)
	case bf.csv:
		return t.CSV(w)
	}
	return t.Markdown(w)
}
