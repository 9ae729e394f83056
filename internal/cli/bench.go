package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/degaml/workbench/core/bench"
	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/core/train"
)

// tableFormat is the --json/--csv/--md choice of bench and bench merge.
type tableFormat struct {
	json, csv, md bool
	plot          string
}

func (f *tableFormat) register(fs *pflag.FlagSet, plotHelp string) {
	fs.BoolVar(&f.json, "json", false, "print one JSON object per (method, suite) cell")
	fs.BoolVar(&f.csv, "csv", false, "print the cells as CSV")
	fs.BoolVar(&f.md, "md", false, "print markdown tables (the default)")
	fs.StringVar(&f.plot, "plot", "", plotHelp)
}

// check refuses two formats at once and a plot that is not a PNG.
func (f *tableFormat) check(cmd string) error {
	n := 0
	for _, b := range []bool{f.json, f.csv, f.md} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%s: choose one of --json, --csv, --md", cmd)
	}
	if f.plot != "" && !strings.HasSuffix(strings.ToLower(f.plot), ".png") {
		return fmt.Errorf("%s: --plot %s: the plot is a PNG (name it FILE.png)", cmd, f.plot)
	}
	if f.plot != "" {
		// Written last: a folder that is missing or read-only must fail
		// now, not after hours of benching.
		probe, err := os.CreateTemp(filepath.Dir(f.plot), ".plot-check-*")
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the probe's name would only confuse
			}
			return fmt.Errorf("%s: --plot %s: cannot write there: %w", cmd, f.plot, err)
		}
		probe.Close()
		os.Remove(probe.Name())
	}
	return nil
}

func (f *tableFormat) print(w io.Writer, t *bench.Table) error {
	switch {
	case f.json:
		return t.JSON(w)
	case f.csv:
		return t.CSV(w)
	}
	return t.Markdown(w)
}

// benchOptions are `workbench bench`'s own flags.
type benchOptions struct {
	spec   bench.Spec
	format tableFormat
	files  taskFileFlags
}

// newBenchCmd is `workbench bench [--preset quick|paper] [--methods LIST]
// [--seeds N] [--suites LIST | --tasks FILE... --ood-tasks FILE...]
// [--json|--csv|--md] [--plot FILE.png]`.
func newBenchCmd(a *app) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "run the paper's results tables (methods × suites × seeds), resumable",
		Args:  noArgs("bench: unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return a.bench(&o) },
	}
	fs := cmd.Flags()
	a.registerBackend(fs)
	fs.StringVar(&o.spec.Preset, "preset", "", "budget preset: quick (≤ 15 min on 2 cores from scratch) or paper (default: config [bench].preset)")
	fs.StringVar(&o.spec.Methods, "methods", "", "comma-separated methods (default: config [bench].methods)")
	fs.StringVar(&o.spec.Suites, "suites", "", "comma-separated suites (default: all twelve)")
	fs.IntVar(&o.spec.Seeds, "seeds", 0, "seeds per cell (default: config [bench].seeds, at most 3 for quick, at least 5 for paper)")
	o.format.register(fs, "also write a PNG: average accuracy bars with CIs, and mean adaptation curves")
	fs.StringVar(&o.spec.Protocol, "protocol", pipeline.ProtocolPaper, "paper: each in-domain suite held out of meta-training in turn (the paper's rows); worlds: held-out worlds of suites seen in meta-training (upper reference)")
	fs.StringVar(&o.spec.Shard, "shard", "", "I/N: run only slice I (from 0) of N of the cells into its own results file; combine with: workbench bench merge DIR...")
	o.files.register(cmd)
	cmd.RegisterFlagCompletionFunc("preset", completeWords(bench.PresetNames()))
	cmd.RegisterFlagCompletionFunc("protocol", completeWords(pipeline.Protocols()))
	cmd.AddCommand(newBenchEngineCmd(a), newBenchMergeCmd(a))
	return cmd
}

func (a *app) bench(o *benchOptions) error {
	if err := o.format.check("bench"); err != nil {
		return err
	}
	var err error
	if o.spec.Files, err = o.files.load("bench"); err != nil {
		return err
	}
	cfg, err := a.load()
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	prog := &bench.Progress{W: a.stderr, TTY: isTerminal(a.stderr)}
	out, err := bench.RunOnWorkbench(ctx, cfg, a.workdir, o.spec, prog)
	if err != nil {
		return err
	}
	if err := o.format.print(a.stdout, out.Table); err != nil {
		return err
	}
	if o.format.plot != "" {
		if err := bench.SavePNG(o.format.plot, out.Table, out.Curves); err != nil {
			return fmt.Errorf("bench: --plot: %w", err)
		}
		fmt.Fprintf(a.stderr, "bench: wrote %s (left: averages with 95%% CIs; right: mean adaptation curves)\n", o.format.plot)
	}
	sum := out.Summary
	fmt.Fprintf(a.stderr, "bench: %d cells run, %d resumed, %d failed in %s; tables in %s\n",
		sum.Ran, sum.Resumed, len(sum.Failed), out.Elapsed.Round(time.Second), out.Dir)
	return out.Err
}

// newBenchMergeCmd is `workbench bench merge [--json|--csv|--md] [--plot FILE.png] DIR...`: the tables of a
// bench run as shards (`bench --shard I/N`), from the shards' work directories (or their bench/ folders, or
// results files). Every store must come from the same config (hash) and plan; missing shards are named and
// their cells shown as "—", and the command then fails so that a script notices.
func newBenchMergeCmd(a *app) *cobra.Command {
	var f tableFormat
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "combine the results of `bench --shard I/N` runs into one table",
		RunE:  func(_ *cobra.Command, dirs []string) error { return a.benchMerge(&f, dirs) },
	}
	f.register(cmd.Flags(), "also write a PNG of the merged table")
	return cmd
}

func (a *app) benchMerge(f *tableFormat, dirs []string) error {
	if len(dirs) == 0 {
		return errors.New("bench merge: give the shards' work directories (or results files)")
	}
	if err := f.check("bench merge"); err != nil {
		return err
	}
	m, err := bench.Merge(dirs)
	if err != nil {
		return err
	}
	plan := m.Manifest.Plan()
	t := bench.Build(m.Manifest.Title, plan, m.Manifest.Layout, m.Records)
	t.Chance = bench.Chance(plan)
	if err := f.print(a.stdout, t); err != nil {
		return err
	}
	if f.plot != "" {
		if err := bench.SavePNG(f.plot, t, bench.MethodCurves(plan.Records(m.Records))); err != nil {
			return fmt.Errorf("bench merge: --plot: %w", err)
		}
	}
	fmt.Fprintf(a.stderr, "bench merge: %d cells of %d from %d results file(s), config %s\n",
		len(m.Records), len(plan.Cells()), len(m.Files), m.Manifest.Key)
	if m.Skipped > 0 {
		fmt.Fprintf(a.stderr, "bench merge: %d unreadable line(s) ignored\n", m.Skipped)
	}
	if m.Duplicates > 0 {
		fmt.Fprintf(a.stderr, "bench merge: %d cell(s) found in several stores; the first shard's kept\n", m.Duplicates)
	}
	if len(m.Missing) > 0 {
		return fmt.Errorf("bench merge: shard(s) %v of %d missing: their cells are absent from the table", m.Missing, m.Manifest.Shards)
	}
	if len(m.Records) < len(plan.Cells()) {
		return fmt.Errorf("bench merge: %d of %d cells are not finished yet (shards still running or failed cells)", len(plan.Cells())-len(m.Records), len(plan.Cells()))
	}
	return nil
}

// engineOptions are `workbench bench engine`'s flags.
type engineOptions struct {
	preset, backend string
	reps, rank      int
	json, keepID    bool
}

// newBenchEngineCmd is `workbench bench engine [--preset nano] [--reps N] [--rank R] [--json]`: LoRA and full
// train steps on a batch of 8 × 64 tokens, KV-cached decoding of 128 tokens, FLOP rate; warm-up excluded, medians.
func newBenchEngineCmd(a *app) *cobra.Command {
	var o engineOptions
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "measure train-step and decode speed of a preset (--preset nano, --reps N, --json)",
		Args:  noArgs("bench engine: unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return a.benchEngine(&o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.preset, "preset", "nano", "model preset")
	fs.IntVar(&o.reps, "reps", 10, "timed repetitions per measurement (median reported)")
	fs.IntVar(&o.rank, "rank", 8, "LoRA rank of the LoRA step (adapter on all seven projections)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object")
	fs.BoolVar(&o.keepID, "keep-identity-transposes", false, "run the go backend without engine.SkipIdentityTransposes (to measure it)")
	fs.StringVar(&o.backend, "backend", "", "GoMLX backend (default: $GOMLX_BACKEND, then "+engine.DefaultConfig+")")
	return cmd
}

func (a *app) benchEngine(o *engineOptions) error {
	if o.rank < 1 {
		return fmt.Errorf("bench engine: --rank %d must be >= 1", o.rank)
	}
	if o.reps < 1 {
		return fmt.Errorf("bench engine: --reps %d must be >= 1", o.reps)
	}
	cfgStr := engine.Resolve(o.backend)
	newBackend := engine.New
	if o.keepID {
		newBackend = engine.NewPlain
	}
	be, err := newBackend(cfgStr)
	if err != nil {
		return err
	}
	res, err := train.BenchEngine(be, o.preset, o.reps, o.rank)
	if err != nil {
		return err
	}
	res.Backend = cfgStr
	res.SIMD = simdBuild
	res.SkipIdentityTransposes = engine.SkipsIdentityTransposes(be)
	w := a.stdout
	if o.json {
		return json.NewEncoder(w).Encode(res)
	}
	fmt.Fprintf(w, "preset %s (%d params), backend %s, simd %v, batch %d×%d, LoRA rank %d, median of %d\n",
		res.Preset, res.Params, res.Backend, res.SIMD, res.Batch, res.SeqLen, res.LoRARank, res.Reps)
	fmt.Fprintf(w, "  LoRA step   %8.1f ms  (CPU %.1f ms; %.2f GFLOP/s, %.2f GFLOP/step)\n", res.LoRAStepMS, res.LoRAStepCPUMS, res.GFLOPS, res.LoRAStepFLOPs/1e9)
	fmt.Fprintf(w, "  full step   %8.1f ms  (CPU %.1f ms)\n", res.TrainStepMS, res.TrainStepCPUMS)
	fmt.Fprintf(w, "  decode      %8.1f tokens/s  (CPU %.0f µs/token; batch 1, KV cache, %d new tokens)\n", res.DecodeTokensPerS, res.DecodeCPUUSPerToken, res.DecodeNew)
	return nil
}
