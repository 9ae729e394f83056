package pipeline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// pretrainSaveEvery is how often pretraining leaves a resumable checkpoint.
var pretrainSaveEvery = 100

// pretrainWorlds is how many task instances (hidden worlds) of each in-domain
// suite the base model is pretrained on. One: the answers of a single world are
// a function of the prompt, so pretraining can teach the question-answering
// skill (find the option that satisfies the world's facts, emit its letter).
// With many worlds (the earlier default, 24) the prompts do not say which world
// they come from, the answer is unpredictable, and the model only learned a
// uniform letter prior (base and every adapted method at chance; SCIENCE.md).
// Held-out instances (>= EvalFirstInstance) then differ from the pretraining
// world only in their hidden facts, which is what adaptation has to learn.
const pretrainWorlds = 1

// pretrainAnswerFrac is the fraction of pretraining sequences whose loss counts
// only the answer tokens. The answer is 2 of ~100 bytes of templated text, so
// the whole-text loss alone barely trains it; answer-only loss alone (no text
// loss) learned nothing in 600 steps. Half and half did best (SCIENCE.md).
const pretrainAnswerFrac = 0.5

// pretrain trains a preset from scratch on the training mixture: all splits of
// the first pretrainWorlds instances of each in-domain suite (instances below
// EvalFirstInstance, never evaluated), the workbench's stand-in for an LLM's
// pretraining. It resumes from dir+".partial" after an interruption and saves
// the finished model to dir.
func (w *Workbench) pretrain(ctx context.Context, cfg models.Config, dir string) (*models.Model, error) {
	p := w.cfg.Pipeline
	tok := tokenizer.NewByte()
	pool := TrainTasks(InDomain(suites.All()), 0, pretrainWorlds, 0)
	var exs []tasks.Example
	for _, t := range pool {
		exs = append(exs, t.Splits.Train...)
		exs = append(exs, t.Splits.Val...)
		exs = append(exs, t.Splits.Test...)
	}
	// answerFrom[i] is where the answer of seqs[i] starts (answer-only loss).
	seqs, answerFrom := train.EncodeTrain(tok, exs, true)
	for i, s := range seqs {
		if len(s) > cfg.MaxPositions {
			seqs[i] = s[:cfg.MaxPositions]
			answerFrom[i] = 1 // truncated: the answer is gone, keep the text loss
		}
	}

	params := models.NewRandom(cfg, 1)
	st := train.NewAdamState(params)
	partial := dir + ".partial"
	if ck, err := models.LoadCheckpoint(partial); err == nil && ck.Optimizer != nil {
		if resumed, err := train.AdamStateFromParams(ck.Optimizer); err == nil {
			params, st = ck.Weights, resumed
			w.bus.Publish(events.Event{Kind: events.Log, Stage: StageBase, Message: fmt.Sprintf("resuming pretraining at step %d", st.Step)})
		}
	}
	adam := train.DefaultAdam()
	adam.WeightDecay = 0.01
	step, err := train.NewFullStep(w.backend, cfg, adam)
	if err != nil {
		return nil, err
	}

	lr, total, start := p.PretrainLR, p.PretrainSteps, time.Now()
	for i := st.Step; i < total; {
		if err := ctx.Err(); err != nil {
			// Quitting (q, Ctrl-C, a closed session) keeps the progress made
			// since the last periodic checkpoint: the next start resumes here.
			if i > 0 && i%pretrainSaveEvery != 0 {
				_ = saveBase(partial, cfg, params, st, start)
			}
			return nil, err
		}
		// The batch depends only on the step, so a resumed run sees the same data.
		rng := rand.New(rand.NewPCG(uint64(i), 0x9e3779b9))
		bs, from := make([][]int32, p.PretrainBatch), make([]int, p.PretrainBatch)
		for k := range bs {
			j := rng.IntN(len(seqs))
			bs[k], from[k] = seqs[j], 1 // 1: whole-text loss
			if rng.Float64() < pretrainAnswerFrac {
				from[k] = answerFrom[j]
			}
		}
		batch, err := train.MakeBatch(bs, from, train.DefaultBucket, cfg.MaxPositions)
		if err != nil {
			return nil, err
		}
		// Cosine decay after a short warm-up: tiny models trained from scratch need both.
		cur := lr * min(1, float64(i+1)/30) * 0.5 * (1 + math.Cos(math.Pi*float64(i)/float64(total)))
		t0 := time.Now()
		res, err := step.Run(nil, params, st, batch, cur)
		if err != nil {
			return nil, err
		}
		if !res.Finite {
			// Rejected: weights untouched; back off the learning rate and retry this step.
			lr /= 2
			w.bus.Publish(events.Event{Kind: events.Warning, Stage: StageBase, Step: i,
				Message: fmt.Sprintf("non-finite pretraining loss at step %d; step rejected, lr halved to %.2g", i, lr)})
			if lr < p.PretrainLR/256 {
				return nil, fmt.Errorf("pretraining diverged at step %d", i)
			}
			continue
		}
		i = st.Step
		ms := float64(time.Since(t0).Microseconds()) / 1000
		w.bus.Publish(events.Event{Kind: events.Step, Stage: StageBase, Method: "pretrain", Phase: "pretrain",
			Step: i, Total: total, SupportLoss: events.F(res.Loss), LR: events.F(cur), MS: ms,
			TokensPerS: float64(batch.Tokens) / (ms / 1000)})
		w.board.progress(StageBase, float64(i)/float64(total))
		if i%pretrainSaveEvery == 0 && i < total {
			if err := saveBase(partial, cfg, params, st, start); err != nil {
				return nil, err
			}
		}
	}
	if err := saveBase(dir, cfg, params, nil, start); err != nil {
		return nil, err
	}
	_ = removeCheckpoint(partial)
	return &models.Model{Config: cfg, Params: params, Tokenizer: tok}, nil
}

func saveBase(dir string, cfg models.Config, params models.Params, st *train.AdamState, start time.Time) error {
	ck := &models.Checkpoint{Config: cfg, Tokenizer: "byte", Weights: params,
		Metadata: map[string]string{"stage": "pretrain", "elapsed": time.Since(start).Round(time.Second).String()}}
	if st != nil {
		ck.Step, ck.Optimizer = int64(st.Step), st.AsParams()
	}
	return models.SaveCheckpoint(dir, ck)
}
