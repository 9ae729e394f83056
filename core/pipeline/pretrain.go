package pipeline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
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

// pretrain trains a preset from scratch on the whole text of the training
// mixture (task instances below EvalFirstInstance of the in-domain suites),
// the workbench's stand-in for an LLM's pretraining. It resumes from
// dir+".partial" after an interruption and saves the finished model to dir.
func (w *Workbench) pretrain(ctx context.Context, cfg models.Config, dir string) (*models.Model, error) {
	p := w.cfg.Pipeline
	tok := tokenizer.NewByte()
	if d := os.Getenv("WB_PT_EVAL_DIR"); d != "" { // EXPERIMENT diagnostic
		ck, err := models.LoadCheckpoint(d)
		if err != nil {
			return nil, err
		}
		m := &models.Model{Config: ck.Config, Params: ck.Weights, Tokenizer: tok}
		acc := func(exs []tasks.Example) float64 {
			pr, err := train.OptionProbs(w.backend, m, nil, nil, exs)
			if err != nil {
				panic(err)
			}
			c := 0
			for i, q := range pr {
				b := 0
				for j := range q {
					if q[j] > q[b] {
						b = j
					}
				}
				if b == exs[i].Answer {
					c++
				}
			}
			return float64(c) / float64(len(exs))
		}
		for _, f := range suites.All() {
			t0, t5, t6 := f.Instance(0, 0, ""), f.Instance(0, 500, ""), f.Instance(0, 501, "")
			fmt.Printf("DIAG %-14s inst0 train %.3f test %.3f | inst500 test %.3f inst501 %.3f\n", f.Name(), acc(t0.Splits.Train), acc(t0.Splits.Test), acc(t5.Splits.Test), acc(t6.Splits.Test))
		}
		os.Exit(0)
	}
	seqs, froms := pretrainSeqs(tok, p.TrainInstances, cfg.MaxPositions)

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
			return nil, err
		}
		// The batch depends only on the step, so a resumed run sees the same data.
		rng := rand.New(rand.NewPCG(uint64(i), 0x9e3779b9))
		bs := make([][]int32, p.PretrainBatch)
		lf := make([]int, p.PretrainBatch)
		for k := range bs {
			j := rng.IntN(len(seqs))
			bs[k], lf[k] = seqs[j], 1
			if rng.Float64() < answerFrac {
				lf[k] = froms[j]
			}
		}
		batch, err := train.MakeBatch(bs, lf, train.DefaultBucket, cfg.MaxPositions)
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

// pretrainSeqs builds the pretraining sequences (EXPERIMENT: mode from WB_PT).
var answerFrac, _ = strconv.ParseFloat(os.Getenv("WB_PT_ANS"), 64)

func pretrainSeqs(tok tokenizer.Tokenizer, trainInstances, maxPos int) ([][]int32, []int) {
	mode := os.Getenv("WB_PT")
	var seqs [][]int32
	var froms []int
	clip := func(s []int32) []int32 {
		if len(s) > maxPos {
			return s[:maxPos]
		}
		return s
	}
	switch {
	case strings.HasPrefix(mode, "worlds:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(mode, "worlds:"))
		for _, t := range TrainTasks(InDomain(suites.All()), n, 0) {
			exs := append(append(append([]tasks.Example{}, t.Splits.Train...), t.Splits.Val...), t.Splits.Test...)
			s, f := train.EncodeTrain(tok, exs, true)
			for k, q := range s {
				seqs, froms = append(seqs, clip(q)), append(froms, f[k])
			}
		}
	case mode == "pack":
		rng := rand.New(rand.NewPCG(7, 7))
		for _, t := range TrainTasks(InDomain(suites.All()), trainInstances, 0) {
			s, _ := train.EncodeTrain(tok, t.Splits.Train, false)
			for k := 0; k < 4*len(s); k++ {
				var cur []int32
				for {
					q := s[rng.IntN(len(s))]
					if len(cur) > 0 {
						q = append([]int32{10}, q...) // blank line between examples
					}
					if len(cur)+len(q) > maxPos {
						break
					}
					cur = append(cur, q...)
				}
				if len(cur) == 0 {
					cur = clip(s[0])
				}
				seqs, froms = append(seqs, cur), append(froms, len(cur)-2)
			}
		}
	default:
		var exs []tasks.Example
		for _, t := range TrainTasks(InDomain(suites.All()), trainInstances, 0) {
			exs = append(exs, t.Splits.Train...)
		}
		s, f := train.EncodeTrain(tok, exs, true)
		for k, q := range s {
			seqs, froms = append(seqs, clip(q)), append(froms, f[k])
		}
	}
	return seqs, froms
}
