package pipeline

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/tasks"
)

// Adaptation divergence is judged here, from the step events every method
// already publishes, as pretraining's is judged in its loop: a loss that
// explodes, or that never goes below where it started and ends higher, is
// not a result to report as normal.

// judgedMethods adapt by one gradient-descent run whose loss should fall.
// DeGAML's policy tries several hypotheses and keeps the best on validation,
// so a bad hypothesis there is expected and not judged.
var judgedMethods = map[string]bool{meta.NoMetaLoRA: true, meta.MAMLEnLLM: true, meta.ABMLL: true}

// lrBackoffs is how many times a diverged nometa-lora run is retried, each
// time with lrBackoffFactor times the learning rate; then it is flagged.
const (
	lrBackoffs      = 3
	lrBackoffFactor = 0.25
)

// divergenceMonitor watches one adaptation's step events.
type divergenceMonitor struct {
	mu       sync.Mutex
	segments [][]float64 // losses of each training run (a run restarts at step 1)
	lastStep map[string]int
	lr       float64 // the learning rate of the first step, as the loop reported it
	rejected int     // steps the loop rejected as non-finite
}

func newDivergenceMonitor() *divergenceMonitor { return &divergenceMonitor{lastStep: map[string]int{}} }

func (d *divergenceMonitor) observe(e events.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch e.Kind {
	case events.Warning:
		if e.Step > 0 && e.Phase != "" {
			d.rejected++
		}
	case events.Step:
		if e.SupportLoss == nil {
			return
		}
		if e.Step <= d.lastStep[e.Phase] || len(d.segments) == 0 {
			d.segments = append(d.segments, nil)
		}
		d.lastStep[e.Phase] = e.Step
		if d.lr == 0 && e.LR != nil && *e.LR > 0 {
			d.lr = *e.LR
		}
		i := len(d.segments) - 1
		d.segments[i] = append(d.segments[i], *e.SupportLoss)
	}
}

// verdict says why the adaptation diverged, or "" if it did not.
func (d *divergenceMonitor) verdict() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.segments {
		if why := divergedLosses(s); why != "" {
			return why
		}
	}
	if d.rejected > 0 && len(d.segments) == 0 {
		return fmt.Sprintf("%d non-finite steps and no finite one", d.rejected)
	}
	return ""
}

// divergedLosses judges one run's losses: any non-finite loss; an explosion
// (the mean of the last quarter above 1.5× the first loss); a spike above
// 3× the first loss + 1; or a loss that never went below its start and ends
// 10% above it.
func divergedLosses(l []float64) string {
	if len(l) < 2 {
		return ""
	}
	for i, v := range l {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("loss %v at step %d", v, i+1)
		}
	}
	first := l[0]
	tail := l[len(l)-max(1, len(l)/4):]
	mean := 0.0
	for _, v := range tail {
		mean += v
	}
	mean /= float64(len(tail))
	if mean > 1.5*first+0.1 {
		return fmt.Sprintf("loss exploded from %.3g to %.3g", first, mean)
	}
	low, high := first, first
	for _, v := range l[1:] {
		low, high = min(low, v), max(high, v)
	}
	if high > 3*first+1 {
		// A jump like this (0.9 → 7.2 at lr 1) means the step size is far
		// too large, even if the loss then wanders back down.
		return fmt.Sprintf("loss spiked from %.3g to %.3g", first, high)
	}
	if len(l) >= 8 && low >= first && mean > 1.1*first {
		return fmt.Sprintf("loss never decreased (%.3g at the start, %.3g at the end)", first, mean)
	}
	return ""
}

// finiteResult refuses a result whose numbers are not finite: NaN accuracy
// or ECE means the model's output is NaN (diverged or damaged weights), and
// reporting it as a number would hide that.
func finiteResult(acc, ece float64) error {
	for name, v := range map[string]float64{"accuracy": acc, "ECE": ece} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("evaluation produced a non-finite %s (%v): the adapted model's outputs are not numbers (diverged training or damaged weights)", name, v)
		}
	}
	return nil
}

// adaptWatched runs m.Adapt under a divergence monitor. A diverged
// nometa-lora run is retried with a smaller learning rate (its LR is a knob;
// remake builds the method for new knobs); a run still diverged after the
// back-offs, or of a method whose LR is not a knob, comes back with flag
// saying why, for the result to carry.
func adaptWatched(ctx context.Context, m meta.Method, remake func(api.Knobs) (meta.Method, error), env *meta.Env,
	art meta.Artifact, task *tasks.Task, seed int64, knobs api.Knobs) (ad *meta.Adapted, flag string, err error) {
	publish := env.Publish
	for attempt := 0; ; attempt++ {
		mon := newDivergenceMonitor()
		run := *env
		run.Publish = func(e events.Event) { mon.observe(e); publish(e) }
		ad, err = m.Adapt(ctx, &run, art, task, seed)
		why := mon.verdict()
		if err != nil && (why == "" || ctx.Err() != nil) {
			return nil, "", err
		}
		if err != nil {
			why += " (" + err.Error() + ")"
		}
		if why == "" || !judgedMethods[m.Name()] && err == nil {
			return ad, "", nil
		}
		if m.Name() != meta.NoMetaLoRA || attempt == lrBackoffs || mon.lr == 0 {
			if err != nil {
				return nil, "", fmt.Errorf("adaptation diverged: %s", why)
			}
			flag = "diverged: " + why
			publish(events.Event{Kind: events.Warning, Message: "adaptation " + flag + "; the result is flagged"})
			return ad, flag, nil
		}
		knobs.LR = mon.lr * lrBackoffFactor
		publish(events.Event{Kind: events.Warning, LR: events.F(knobs.LR),
			Message: fmt.Sprintf("adaptation diverged (%s); retrying with lr %.3g", why, knobs.LR)})
		if m, err = remake(knobs); err != nil {
			return nil, "", err
		}
	}
}
