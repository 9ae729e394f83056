package pipeline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// pretrainSaveEvery is how often pretraining leaves a resumable checkpoint.
var pretrainSaveEvery = 100

// pretrain trains a preset from scratch on the whole text of the training
// mixture (task instances below EvalFirstInstance of the in-domain suites),
// the workbench's stand-in for an LLM's pretraining. It resumes from
// dir+".partial" after an interruption and saves the finished model to dir.
func (w *Workbench) pretrain(ctx context.Context, cfg models.Config, dir string) (*models.Model, error) {
	p := w.cfg.Pipeline
	tok := tokenizer.NewByte()
	pool := TrainTasks(InDomain(suites.All()), p.TrainInstances, 0)
	var exs []tasks.Example
	for _, t := range pool {
		exs = append(exs, t.Splits.Train...)
	}
	seqs, _ := train.EncodeTrain(tok, exs, false)
	for i, s := range seqs {
		if len(s) > cfg.MaxPositions {
			seqs[i] = s[:cfg.MaxPositions]
		}
	}

	params := models.NewRandom(cfg, 1)
	names := params.Names()
	m, v := zerosLike(params), zerosLike(params)
	step0 := 0
	partial := dir + ".partial"
	if ck, err := models.LoadCheckpoint(partial); err == nil && ck.Optimizer != nil {
		params, step0 = ck.Weights, int(ck.Step)
		for _, n := range names {
			m[n], v[n] = ck.Optimizer["m/"+n], ck.Optimizer["v/"+n]
		}
		w.bus.Publish(events.Event{Kind: events.Log, Stage: StageBase, Message: fmt.Sprintf("resuming pretraining at step %d", step0)})
	}

	adam := train.DefaultAdam()
	adam.WeightDecay = 0.01
	exec, err := NewExec(w.backend, func(in []*Node) []*Node {
		n := len(names)
		pw := models.Bind(names, in[:n])
		mm, vv := in[n:2*n], in[2*n:3*n]
		lr, step, ids, targets, weights := in[3*n], in[3*n+1], in[3*n+2], in[3*n+3], in[3*n+4]
		loss := models.CausalLMLoss(models.Forward(cfg, pw, ids, models.ForwardOptions{}), targets, weights)
		grads := Gradient(loss, in[:n]...)
		newP, newM, newV := train.AdamUpdate(adam, lr, step, in[:n], grads, mm, vv)
		out := append(append(append(newP, newM...), newV...), loss)
		return out
	})
	if err != nil {
		return nil, err
	}

	lr := p.PretrainLR
	total := p.PretrainSteps
	start := time.Now()
	for step := step0; step < total; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The batch depends only on the step, so a resumed run sees the same data.
		rng := rand.New(rand.NewPCG(uint64(step), 0x9e3779b9))
		bs := make([][]int32, p.PretrainBatch)
		for i := range bs {
			bs[i] = seqs[rng.IntN(len(seqs))]
		}
		batch, err := train.MakeBatch(bs, nil, train.DefaultBucket, cfg.MaxPositions)
		if err != nil {
			return nil, err
		}
		// Cosine decay after a short warm-up: tiny models trained from scratch need both.
		cur := lr * min(1, float64(step+1)/30) * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(total)))
		t0 := time.Now()
		args := make([]any, 0, 3*len(names)+5)
		for _, group := range []models.Params{params, m, v} {
			for _, n := range names {
				args = append(args, group[n])
			}
		}
		args = append(args, float32(cur), float32(step+1), batch.IDs, batch.Targets, batch.Weights)
		out, err := exec.Exec(args...)
		if err != nil {
			return nil, err
		}
		loss := float64(out[len(out)-1].Value().(float32))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			// Reject the step: keep the old weights, back off the learning rate.
			lr /= 2
			w.bus.Publish(events.Event{Kind: events.Warning, Stage: StageBase, Step: step,
				Message: fmt.Sprintf("non-finite pretraining loss at step %d; step rejected, lr halved to %.2g", step, lr)})
			continue
		}
		k := len(names)
		for i, n := range names {
			params[n], m[n], v[n] = out[i], out[k+i], out[2*k+i]
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		w.bus.Publish(events.Event{Kind: events.Step, Stage: StageBase, Method: "pretrain", Phase: "pretrain",
			Step: step + 1, Total: total, SupportLoss: events.F(loss), LR: events.F(cur), MS: ms,
			TokensPerS: float64(batch.Tokens) / (ms / 1000)})
		w.board.progress(StageBase, float64(step+1)/float64(total))
		if (step+1)%pretrainSaveEvery == 0 && step+1 < total {
			if err := saveBase(partial, cfg, params, m, v, step+1, start); err != nil {
				return nil, err
			}
		}
	}
	if err := saveBase(dir, cfg, params, nil, nil, total, start); err != nil {
		return nil, err
	}
	_ = removeCheckpoint(partial)
	return &models.Model{Config: cfg, Params: params, Tokenizer: tok}, nil
}

func zerosLike(p models.Params) models.Params {
	out := models.Params{}
	for n, t := range p {
		out[n] = tensors.FromShape(t.Shape())
	}
	return out
}

func saveBase(dir string, cfg models.Config, params, m, v models.Params, step int, start time.Time) error {
	ck := &models.Checkpoint{Config: cfg, Tokenizer: "byte", Step: int64(step), Weights: params,
		Metadata: map[string]string{"stage": "pretrain", "elapsed": time.Since(start).Round(time.Second).String()}}
	if m != nil {
		ck.Optimizer = models.Params{}
		for n := range m {
			ck.Optimizer["m/"+n], ck.Optimizer["v/"+n] = m[n], v[n]
		}
	}
	return models.SaveCheckpoint(dir, ck)
}
