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
	// Batch returns the batch of step i (0-based); it may return the same batch every time.
	Batch func(i int) (*Batch, error)
	// Phase labels the step events ("pretrain", "ttt", "inner", ...).
	Phase string
	// Publish receives one events.Step per accepted step and an events.Warning per rejected one; nil = silent.
	Publish func(events.Event)
	// MaxRejects aborts the loop after this many consecutive NaN/Inf steps (0 = 8).
	MaxRejects int
}

// LoopResult summarizes a Loop run.
type LoopResult struct {
	Losses   []float64 // loss of every accepted step, in order
	Rejected int       // NaN/Inf steps skipped
	LR       float64   // the final learning rate (halved once per rejected step)
}

// Loop runs cfg.Steps train steps of s. A step whose loss or gradient norm is NaN/Inf is skipped (parameters
// and optimizer state untouched), the learning rate is halved and a warning is published; too many rejects in
// a row abort with an error. The context is checked before every step.
func Loop(ctx context.Context, s *Step, frozen, trainable models.Params, st *AdamState, cfg LoopConfig) (LoopResult, error) {
	res := LoopResult{LR: cfg.LR}
	maxRejects := cfg.MaxRejects
	if maxRejects <= 0 {
		maxRejects = 8
	}
	publish := cfg.Publish
	if publish == nil {
		publish = func(events.Event) {}
	}
	rejectsInRow := 0
	for i := 0; i < cfg.Steps; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		b, err := cfg.Batch(i)
		if err != nil {
			return res, err
		}
		t0 := time.Now()
		r, err := s.Run(frozen, trainable, st, b, res.LR)
		if err != nil {
			return res, err
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		if !r.Finite {
			res.Rejected++
			rejectsInRow++
			res.LR /= 2
			publish(events.Event{Time: time.Now(), Kind: events.Warning, Phase: cfg.Phase, Step: i + 1, Total: cfg.Steps,
				LR: events.F(res.LR),
				Message: fmt.Sprintf("step %d: non-finite loss or gradient (loss %v, grad norm %v); step skipped, lr halved to %.3g",
					i+1, r.Loss, r.GradNorm, res.LR)})
			if rejectsInRow >= maxRejects {
				return res, fmt.Errorf("train: %d non-finite steps in a row (lr now %.3g)", rejectsInRow, res.LR)
			}
			continue
		}
		rejectsInRow = 0
		res.Losses = append(res.Losses, r.Loss)
		ev := events.Event{Time: time.Now(), Kind: events.Step, Phase: cfg.Phase, Step: i + 1, Total: cfg.Steps,
			SupportLoss: events.F(r.Loss), LR: events.F(res.LR), MS: ms}
		if ms > 0 {
			ev.TokensPerS = float64(b.Tokens) / (ms / 1000)
		}
		publish(ev)
	}
	return res, nil
}
