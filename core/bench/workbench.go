package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/pipeline"
)

// This file wires a bench to a pipeline.Workbench: the whole run
// (RunOnWorkbench), the stages it needs up front, the runner for its cells,
// the stage lines it shows while it waits, and the latest table it leaves
// for the TUI.

// Spec is one bench run as a user asks for it.
type Spec struct {
	Preset   string // quick or paper; "" = the config's [bench].preset
	Protocol string // pipeline.ProtocolPaper or pipeline.ProtocolWorlds
	Shard    string // "I/N": only that slice of the cells; "" = all
	Request         // methods, suites, seeds
}

// Outcome is what a bench run leaves: its table, the mean adaptation curves
// of its cells (for the plot) and how the run went.
type Outcome struct {
	Table   *Table
	Curves  map[string][]Curve
	Summary Summary
	Dir     string        // the work directory's bench/ folder (results files, latest.json)
	Elapsed time.Duration // preparation and cells
	// Err is the run's failure, to report after the table (which shows what
	// finished): an interruption, failed cells or skipped methods.
	Err error
}

// RunOnWorkbench runs a bench from scratch or resumes it: it resolves the
// preset and the plan, opens the Workbench on workdir, prepares the
// pipeline stages, runs the cells not yet in the results file, and leaves
// the table where the TUI reads it. prog reports progress (nil: none). The
// error is for a bench that could not start; Outcome.Err for one that ran.
func RunOnWorkbench(ctx context.Context, cfg *config.Config, workdir string, spec Spec, prog *Progress) (*Outcome, error) {
	presetName := spec.Preset
	if presetName == "" {
		presetName = cfg.Bench.Preset
	}
	cfg, preset, err := ApplyPreset(presetName, cfg)
	if err != nil {
		return nil, err
	}
	plan, layout, err := NewPlan(spec.Request, cfg.Bench.Methods, cfg.Bench.Seeds, preset)
	if err != nil {
		return nil, err
	}
	if plan.Shard, err = ParseShard(spec.Shard); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	wb, err := pipeline.Open(cfg, workdir)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	if err := wb.SetProtocol(spec.Protocol); err != nil {
		return nil, fmt.Errorf("bench: --protocol: %w", err)
	}
	if spec.Files != nil {
		if err := wb.SetTaskSet(spec.Files); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	// The preset's method budgets (smaller meta-training for quick, larger for
	// paper) apply on top of what the config sets.
	opts := MergeOptions(pipeline.MethodOptions(cfg), preset.Options)
	wb.SetMethodOptions(opts)

	// The key hashes the protocol and the method budgets in effect (config and
	// preset), and the task files' contents, so a changed [methods.*] key or
	// an edited file starts a fresh results file.
	label, data := presetName+"-"+spec.Protocol, ""
	if spec.Files != nil {
		label += "-files"
		data = fmt.Sprintf(", %d task files", len(spec.Files.Tasks))
	}
	key := KeyWithTasks(label, cfg, opts, wb.TaskSetKey())
	dir := filepath.Join(wb.Workdir(), "bench")
	st, err := OpenStore(filepath.Join(dir, StoreFile(key, plan.Shard)))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	title := fmt.Sprintf("DeGAML Workbench bench — preset %s, protocol %s, model %s%s, %d seed(s)", presetName, spec.Protocol, modelName(cfg.Model), data, len(plan.Seeds))
	if err := WriteManifest(st.Path(), key, title, plan, layout); err != nil {
		return nil, err
	}
	if st.Skipped > 0 {
		prog.Line(fmt.Sprintf("bench: %s: %d unreadable line(s) ignored", st.Path(), st.Skipped))
	}

	stopStages := FollowStages(wb.Bus(), prog)
	defer stopStages()
	start := time.Now()
	runPlan := plan // Prepare may drop broken methods from the cells to run, not from the table
	dropped, runErr := Prepare(ctx, wb, &runPlan, st, prog)
	var sum Summary
	if runErr == nil {
		sum, runErr = Run(ctx, runPlan, PipelineRunner(wb), st, prog)
	}
	stopStages()
	prog.Done()

	t := Build(title, plan, layout, st.Records())
	t.Chance = ChanceOn(wb, plan)
	t.Protocol = spec.Protocol
	if len(st.Records()) > 0 {
		if err := WriteLatest(wb.Workdir(), t); err != nil {
			return nil, err
		}
	}
	out := &Outcome{Table: t, Curves: MethodCurves(plan.Records(st.Records())), Summary: sum, Dir: dir, Elapsed: time.Since(start)}
	switch {
	case errors.Is(runErr, context.Canceled):
		out.Err = errors.New("interrupted; finished cells and pipeline stages are kept: run the same command again to resume")
	case runErr != nil:
		out.Err = runErr
	case len(sum.Failed) > 0 || len(dropped) > 0:
		skipped := append(dropped, sum.SkippedMethods...)
		out.Err = fmt.Errorf("%d cell(s) failed, methods skipped: %s; the table shows the rest", len(sum.Failed), strings.Join(skipped, ", "))
	}
	return out, nil
}

// modelName names the model in the bench title: the HF directory's name,
// else the preset.
func modelName(m config.Model) string {
	if m.HFDir != "" {
		return filepath.Base(m.HFDir)
	}
	return m.Preset
}

// Prepare runs the pipeline stages (base model, each method's
// meta-training) up front, timed, so the cell loop's ETA measures
// adaptation only. A method whose meta-training fails is dropped from
// plan.Methods (its rows show "—") instead of being retrained per cell;
// dropped names them.
func Prepare(ctx context.Context, wb *pipeline.Workbench, plan *Plan, st *Store, prog *Progress) (dropped []string, err error) {
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
		if h := wb.HeldOut(su); !slices.Contains(pools, h) {
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

// PipelineRunner adapts and evaluates one cell through Workbench.RunTask,
// the code path the TUI and `workbench run` use; the run's events also go
// to the bus, so the work directory's run log keeps them.
func PipelineRunner(wb *pipeline.Workbench) Runner {
	return func(ctx context.Context, c Cell, pub func(events.Event)) (*events.ResultInfo, error) {
		task, err := wb.Task(c.Suite, c.Seed)
		if err != nil {
			return nil, err
		}
		id := fmt.Sprintf("bench-%s-%s-%d", c.Method, c.Suite, c.Seed)
		_, res, err := wb.RunTask(ctx, c.Method, task, c.Seed, api.Knobs{}, func(e events.Event) {
			e.Run = id
			pub(e)
			wb.Bus().Publish(e)
		})
		return res, err
	}
}

// FollowStages prints pipeline stage events (base pretraining,
// meta-training) while the bench waits on them: a line when a stage starts
// or finishes, a live line for its steps on a terminal. The returned func
// stops it; calling it again does nothing.
func FollowStages(bus *events.Bus, prog *Progress) func() {
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
					if line, _ := events.Describe(e); line != "" {
						prog.Line(line)
					}
				case events.Step:
					if line, _ := events.Describe(e); line != "" {
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

// WriteLatest leaves the table where Workbench.LatestBench (the TUI's
// results pane) reads it, with its markdown beside it.
func WriteLatest(workdir string, t *Table) error {
	var md bytes.Buffer
	if err := t.Markdown(&md); err != nil {
		return err
	}
	return pipeline.WriteLatestBench(workdir, t.API(), md.Bytes())
}
