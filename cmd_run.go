package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/pipeline"
)

func init() {
	register("run", "adapt one method to one task and evaluate it (JSON lines with --json)", cmdRun)
}

func cmdRun(args []string) error { return runTask(os.Stdout, isTerminal(os.Stdout), args) }

// runTask is `workbench run --task NAME --method M [--seed S] [--json]`.
func runTask(stdout io.Writer, tty bool, args []string) error {
	fs := newFlags("run")
	var cf commonFlags
	cf.register(fs)
	task := fs.String("task", "", "suite name, e.g. math-mc (see `workbench tasks`)")
	method := fs.String("method", meta.DeGAML, "method: "+strings.Join(meta.Names(), ", "))
	seed := fs.Int64("seed", 1, "seed: picks the held-out task instance and the sampling")
	asJSON := fs.Bool("json", false, "print every event as a JSON line, then the result line")
	steps := fs.Int("inner-steps", 0, "override the adaptation steps (0 = config)")
	lr := fs.Float64("lr", 0, "override the adaptation learning rate (0 = config)")
	support := fs.Int("support", 0, "labelled support examples (0 = config [adapt] support)")
	protocol := fs.String("protocol", pipeline.ProtocolWorlds, "what the method meta-trains on: worlds (all in-domain suites; evaluated on held-out worlds) or paper (an in-domain task's own suite held out)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *task == "" {
		return errors.New("run: --task is required (see `workbench tasks`)")
	}
	wb, err := cf.open()
	if err != nil {
		return err
	}
	defer wb.Close()
	if err := wb.SetProtocol(*protocol); err != nil {
		return fmt.Errorf("run: --protocol: %w", err)
	}
	ctx, stop := interruptible()
	defer stop()

	sub := wb.Bus().Subscribe(events.Lossless)
	id, err := wb.Adapt(ctx, api.AdaptRequest{Suite: *task, Method: *method, Seed: *seed,
		Knobs: api.Knobs{InnerSteps: *steps, LR: *lr, Support: *support}})
	if err != nil {
		return err
	}
	out := newEventPrinter(stdout, *asJSON, tty)
	for {
		evs, ok := sub.Wait()
		for _, e := range evs {
			// Pipeline events (no run id) are shown too: on a fresh work
			// directory the base model and meta-training come first.
			if e.Run != "" && e.Run != id {
				continue
			}
			out.print(e)
			if e.Run == id && e.Kind == events.Result {
				out.done()
				return nil
			}
			if e.Run == id && e.Kind == events.Error {
				out.done()
				return errors.New(e.Message)
			}
		}
		if !ok || ctx.Err() != nil {
			out.done()
			return errors.New("interrupted; cached stages are kept, run again to resume")
		}
	}
}

// eventPrinter renders events as JSON lines, or as a compact live display
// on a terminal (one rewritten status line, a permanent line per milestone).
type eventPrinter struct {
	w         io.Writer
	json, tty bool
	enc       *json.Encoder
	live      bool
}

func newEventPrinter(w io.Writer, asJSON, tty bool) *eventPrinter {
	return &eventPrinter{w: w, json: asJSON, tty: tty, enc: json.NewEncoder(w)}
}

func (p *eventPrinter) print(e events.Event) {
	if p.json {
		_ = p.enc.Encode(e)
		return
	}
	line, permanent := describe(e)
	if line == "" {
		return
	}
	if !permanent && !p.tty {
		return // a pipe gets milestones only, not a line per step
	}
	if permanent {
		if p.live {
			fmt.Fprint(p.w, "\r\033[K")
		}
		fmt.Fprintln(p.w, line)
		p.live = false
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.live = true
}

func (p *eventPrinter) done() {
	if p.live {
		fmt.Fprintln(p.w)
		p.live = false
	}
}

func fnum(x *float64) string {
	if x == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f", *x)
}

// describe turns an event into one human line; permanent lines stay on screen.
func describe(e events.Event) (string, bool) {
	switch e.Kind {
	case events.StageStarted:
		return fmt.Sprintf("▶ stage %s", e.Stage), true
	case events.StageFinished:
		if e.Message != "" {
			return fmt.Sprintf("✗ stage %s failed: %s", e.Stage, e.Message), true
		}
		if e.Cached {
			return fmt.Sprintf("✓ stage %s (cached)", e.Stage), true
		}
		return fmt.Sprintf("✓ stage %s", e.Stage), true
	case events.Step:
		s := fmt.Sprintf("  %s %s %s step %d/%d  loss %s", e.Stage, e.Method, e.Phase, e.Step, e.Total, fnum(e.SupportLoss))
		if e.QueryLoss != nil {
			s += "  query " + fnum(e.QueryLoss)
		}
		if e.Accuracy != nil {
			s += fmt.Sprintf("  acc %.1f%%", 100**e.Accuracy)
		}
		return s + fmt.Sprintf("  %.0f ms", e.MS), false
	case events.Hypothesis:
		if h := e.Hyp; h != nil && h.Chosen {
			return fmt.Sprintf("  chosen hypothesis: %s %v %s", h.Family, h.Params, h.Why), true
		}
	case events.Result:
		if r := e.Result; r != nil {
			s := fmt.Sprintf("result: %s on %s: accuracy %.1f%% (n=%d, %.1fs)", r.Method, r.Task, 100*r.Accuracy, r.N, r.WallS)
			if r.ECE != nil {
				s += fmt.Sprintf(", ECE %.3f", *r.ECE)
			}
			return s, true
		}
	case events.Warning:
		return "warning: " + e.Message, true
	case events.Error:
		return "error: " + e.Message, true
	}
	return "", false
}
