package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/tasks/suites"
)

// runOptions are `workbench run`'s flags.
type runOptions struct {
	task, method, protocol string
	seed                   int64
	json                   bool
	innerSteps, support    int
	lr                     float64
	files                  taskFileFlags
}

// newRunCmd is `workbench run --task NAME --method M [--seed S] [--json]`,
// or `workbench run --tasks FILE [--ood-tasks FILE]... [--task NAME] ...`
// on a researcher's own files.
func newRunCmd(a *app) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "adapt one method to one task and evaluate it (JSON lines with --json)",
		Args:  noArgs("run: unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return a.runTask(&o) },
	}
	fs := cmd.Flags()
	a.registerBackend(fs)
	fs.StringVar(&o.task, "task", "", "suite `name`, e.g. math-mc (list them with: workbench tasks); with task files, a dataset name (default: the first file)")
	fs.StringVar(&o.method, "method", meta.DeGAML, "method: "+strings.Join(meta.Names(), ", "))
	fs.Int64Var(&o.seed, "seed", 1, "seed: picks the held-out task instance and the sampling")
	fs.BoolVar(&o.json, "json", false, "print every event as a JSON line, then the result line")
	fs.IntVar(&o.innerSteps, "inner-steps", 0, "override the adaptation steps (0 = config)")
	fs.Float64Var(&o.lr, "lr", 0, "override the adaptation learning rate (0 = config)")
	fs.IntVar(&o.support, "support", 0, "labelled support examples (0 = config [adapt] support)")
	fs.StringVar(&o.protocol, "protocol", pipeline.ProtocolWorlds, "what the method meta-trains on: worlds (all in-domain suites; evaluated on held-out worlds) or paper (an in-domain task's own suite held out)")
	o.files.register(cmd)
	cmd.RegisterFlagCompletionFunc("task", completeWords(suites.Names()))
	cmd.RegisterFlagCompletionFunc("method", completeWords(meta.Names()))
	cmd.RegisterFlagCompletionFunc("protocol", completeWords(pipeline.Protocols()))
	return cmd
}

func (a *app) runTask(o *runOptions) error {
	set, err := o.files.load("run")
	if err != nil {
		return err
	}
	if o.task == "" && set != nil {
		o.task = set.Tasks[0].Suite
	}
	if o.task == "" {
		return errors.New("run: --task is required (see `workbench tasks`), or --tasks FILE")
	}
	req := api.AdaptRequest{Suite: o.task, Method: o.method, Seed: o.seed,
		Knobs: api.Knobs{InnerSteps: o.innerSteps, LR: o.lr, Support: o.support}}
	if err := req.Validate(); err != nil {
		return flagError("run", err)
	}
	wb, err := a.open()
	if err != nil {
		return err
	}
	defer wb.Close()
	if err := wb.SetProtocol(o.protocol); err != nil {
		return fmt.Errorf("run: --protocol: %w", err)
	}
	if set != nil {
		if err := wb.SetTaskSet(set); err != nil {
			return fmt.Errorf("run: %w", err)
		}
	}
	ctx, stop := interruptible()
	defer stop()

	sub := wb.Bus().Subscribe(events.Lossless)
	id, err := wb.Adapt(ctx, req)
	if err != nil {
		return err
	}
	// Ctrl-C closes the subscription, so the wait below wakes at once even
	// while a job is busy in a step that does not look at its context.
	defer context.AfterFunc(ctx, sub.Close)()
	out := newEventPrinter(a.stdout, o.json, isTerminal(a.stdout))
	for {
		evs, ok := sub.Wait()
		for _, e := range evs {
			// Pipeline events (no run id) are shown too: on a fresh work
			// directory the base model and meta-training come first.
			if e.Run != "" && e.Run != id {
				continue
			}
			if e.Run == id && e.Kind == events.Error && !o.json {
				out.done()
				return errors.New(e.Message) // Execute prints it: one line, not two
			}
			if err := out.print(e); err != nil {
				out.done()
				return err
			}
			if e.Run != id {
				continue
			}
			switch e.Kind {
			case events.Result:
				out.done()
				if e.Result != nil && e.Result.Flag != "" {
					return fmt.Errorf("the result is not a normal one: %s", e.Result.Flag)
				}
				return nil
			case events.Error:
				out.done()
				return errors.New(e.Message)
			case events.Canceled:
				out.done()
				return errInterrupted
			}
		}
		if !ok || ctx.Err() != nil {
			// A JSON reader gets a terminal event here too, as when the
			// engine reports the cancel itself: the stream ends with a
			// result, an error or "cancelled", never mid-stage in silence.
			if o.json {
				out.print(events.Event{Time: time.Now(), Kind: events.Canceled, Run: id, Message: "interrupted"})
			}
			out.done()
			return errInterrupted
		}
	}
}

var errInterrupted = errors.New("interrupted; cached stages are kept, run again to resume")

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

// print shows one event; an event that cannot be written (a closed pipe)
// is an error, never silently dropped.
func (p *eventPrinter) print(e events.Event) error {
	if p.json {
		return p.enc.Encode(events.JSONSafe(e))
	}
	line, permanent := events.Describe(e)
	if line == "" {
		return nil
	}
	if !permanent && !p.tty {
		return nil // a pipe gets milestones only, not a line per step
	}
	if permanent {
		if p.live {
			fmt.Fprint(p.w, "\r\033[K")
		}
		p.live = false
		_, err := fmt.Fprintln(p.w, line)
		return err
	}
	p.live = true
	_, err := fmt.Fprintf(p.w, "\r\033[K%s", line)
	return err
}

func (p *eventPrinter) done() {
	if p.live {
		fmt.Fprintln(p.w)
		p.live = false
	}
}
