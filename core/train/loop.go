package train

import (
	"context"
	"fmt"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
)

// LoopConfig drives Loop.
type LoopConfig struct {
	Steps int
	LR    float64
	// Schedule, when set, gives the learning rate of step i (0-based) in place of LR; the divergence policy's
	// halvings scale it.
	Schedule func(i int) float64
	// WeightDecay is AdamW's decoupled decay of every step (see Hyper).
	WeightDecay float64
	// Batch returns the batch of step i (0-based); it may return the same batch every time.
	Batch func(i int) (*Batch, error)
	// Method, Task and Phase label the events ("pretrain", "ttt", "inner", ...).
	Method, Task, Phase string
	// Publish receives one events.Step per accepted step and an events.Warning per rejected one; nil = silent.
	Publish func(events.Event)
	// MaxRejects aborts the loop after this many consecutive NaN/Inf steps (0 = 8).
	MaxRejects int

	// Hooks, in the order they run. OnStep sees every accepted step (its 0-based index, the step's result and
	// the Step event about to be published, which it may complete: a stage, a step count over a larger job) and
	// may read the updated trainable tensors. OnEval runs on every EvalEvery-th accepted step and on the last
	// step, before the event is published: it adds held-out figures (QueryLoss, Accuracy) to the event. OnEnd
	// runs once after the last step.
	OnStep    func(i int, r StepResult, ev *events.Event) error
	EvalEvery int
	OnEval    func(i int, ev *events.Event) error
	OnEnd     func(res LoopResult) error
}

// LoopResult summarizes a Loop run.
type LoopResult struct {
	Losses   []float64 // loss of every accepted step, in order
	Rejected int       // NaN/Inf steps skipped
	LR       float64   // the learning rate of the last step (halved once per rejected step)
}

// Loop runs cfg.Steps train steps of s under the workbench's divergence policy (Divergence): a step whose loss
// or gradient norm is NaN/Inf is skipped (parameters and optimizer state untouched), the learning rate is
// halved and a warning is published; too many rejects in a row abort with an error. The context is checked
// before every step.
func Loop(ctx context.Context, s *Step, frozen, trainable models.Params, st *AdamState, cfg LoopConfig) (LoopResult, error) {
	res := LoopResult{LR: cfg.LR}
	div := Divergence{MaxRejects: cfg.MaxRejects}
	publish := cfg.Publish
	if publish == nil {
		publish = func(events.Event) {}
	}
	lrOf := func(i int) float64 {
		if cfg.Schedule != nil {
			return cfg.Schedule(i) * div.Scale()
		}
		return cfg.LR * div.Scale()
	}
	for i := 0; i < cfg.Steps; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		b, err := cfg.Batch(i)
		if err != nil {
			return res, err
		}
		lr := lrOf(i)
		t0 := time.Now()
		r, err := s.Run(frozen, trainable, st, b, Hyper{LR: lr, WeightDecay: cfg.WeightDecay})
		if err != nil {
			return res, err
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		if !r.Finite {
			abort := div.Reject()
			res.Rejected, res.LR = div.Rejected(), lrOf(i)
			publish(events.Event{Time: time.Now(), Kind: events.Warning, Method: cfg.Method, Task: cfg.Task, Phase: cfg.Phase,
				Step: i + 1, Total: cfg.Steps, LR: events.F(res.LR),
				Message: fmt.Sprintf("%s step %d: non-finite loss or gradient (loss %v, grad norm %v); step skipped, lr halved to %.3g",
					cfg.Phase, i+1, r.Loss, r.GradNorm, res.LR)})
			if abort != nil {
				return res, abort
			}
			continue
		}
		div.Accept()
		res.LR = lr
		res.Losses = append(res.Losses, r.Loss)
		ev := events.Event{Time: time.Now(), Kind: events.Step, Method: cfg.Method, Task: cfg.Task, Phase: cfg.Phase,
			Step: i + 1, Total: cfg.Steps, SupportLoss: events.F(r.Loss), LR: events.F(lr), MS: ms}
		if ms > 0 {
			ev.TokensPerS = float64(b.Tokens) / (ms / 1000)
		}
		if cfg.OnStep != nil {
			if err := cfg.OnStep(i, r, &ev); err != nil {
				return res, err
			}
		}
		if cfg.OnEval != nil && cfg.EvalEvery > 0 && ((i+1)%cfg.EvalEvery == 0 || i+1 == cfg.Steps) {
			if err := cfg.OnEval(i, &ev); err != nil {
				return res, err
			}
		}
		publish(ev)
	}
	if cfg.OnEnd != nil {
		if err := cfg.OnEnd(res); err != nil {
			return res, err
		}
	}
	return res, nil
}
