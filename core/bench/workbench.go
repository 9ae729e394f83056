package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/pipeline"
)

// This file wires a bench to a pipeline.Workbench: the stages it needs up
// front, the runner for its cells, the stage lines it shows while it waits,
// and the latest table it leaves for the TUI.

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
