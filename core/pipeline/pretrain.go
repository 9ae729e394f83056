package pipeline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// pretrainFactFrac is the fraction of pretraining rows that are fact
// documents ("p3 : fact the tin is magnetic . fact …"); the rest are items of
// the pretraining worlds, half of them with the answer-only loss. Fact
// documents and items of the same world in different rows make "store a
// world's facts by the LM loss, then answer questions about them" a trained
// path, which test-time training on a task's fact-line traces can use
// (../shared/SUITES-V2.md: without it TTT gave no gain).
const pretrainFactFrac = 0.3

// pretrainAnswerFrac is the fraction of item rows whose loss counts only the
// answer: the answer is one word of ~30, and the whole-text loss alone trains
// it too weakly (SCIENCE.md).
const pretrainAnswerFrac = 0.5

// pretrainFamilies are the families pretraining covers; nil means all twelve
// (tests pretrain a tiny model on one).
var pretrainFamilies []tasks.Family

// pretrainData is the pretraining corpus: the items of every family on its
// group's pretraining worlds (suites.Pretraining: random tables tagged p0,
// p1, …, disjoint from every task world and regime), and each world's fact
// lines for the fact documents.
type pretrainData struct {
	items [][]int32
	from  []int
	facts [][][]int32 // per world: its fact lines, tokenized
	tags  [][]int32   // per world: "pJ :"
}

func newPretrainData(tok tokenizer.Tokenizer, maxLen int) *pretrainData {
	d := &pretrainData{}
	seenWorld := map[string]bool{}
	fams := pretrainFamilies
	if fams == nil {
		fams = suites.All()
	}
	for _, f := range fams {
		for j := range suites.PretrainWorlds {
			t, facts := suites.Pretraining(f, 0, j)
			exs := append(append(append([]tasks.Example(nil), t.Splits.Train...), t.Splits.Val...), t.Splits.Test...)
			seqs, from := train.EncodeTrain(tok, exs, true)
			for i, s := range seqs {
				if eos := tok.EOS(); eos >= 0 && len(s) < maxLen {
					s = append(s, int32(eos)) // so chat stops after the answer
				}
				if len(s) > maxLen {
					s, from[i] = s[:maxLen], 1 // truncated: the answer is gone, keep the text loss
				}
				d.items = append(d.items, s)
				d.from = append(d.from, from[i])
			}
			// Families of one group share their pretraining worlds: one fact list per world.
			w := suites.Group(f) + "/" + strconv.Itoa(j)
			if seenWorld[w] {
				continue
			}
			seenWorld[w] = true
			var fl [][]int32
			for _, line := range facts {
				fl = append(fl, toIDs(tok.Encode(" "+line)))
			}
			d.facts = append(d.facts, fl)
			d.tags = append(d.tags, toIDs(tok.Encode(fmt.Sprintf("p%d :", j))))
		}
	}
	return d
}

// factDoc is a fact document of world wi: its tag, then its fact lines in a
// random order, as many as fit in maxLen.
func (d *pretrainData) factDoc(rng *rand.Rand, wi, maxLen int) []int32 {
	doc := append([]int32(nil), d.tags[wi]...)
	for _, k := range rng.Perm(len(d.facts[wi])) {
		if len(doc)+len(d.facts[wi][k]) > maxLen {
			break
		}
		doc = append(doc, d.facts[wi][k]...)
	}
	return doc
}

// batch is the pretraining batch of one step (it depends only on the step,
// so a resumed run sees the same data).
func (d *pretrainData) batch(step, size, maxLen int) ([][]int32, []int) {
	rng := rand.New(rand.NewPCG(uint64(step), 0x9e3779b9))
	bs, from := make([][]int32, size), make([]int, size)
	for k := range bs {
		if rng.Float64() < pretrainFactFrac {
			bs[k], from[k] = d.factDoc(rng, rng.IntN(len(d.facts)), maxLen), 1
			continue
		}
		j := rng.IntN(len(d.items))
		bs[k], from[k] = d.items[j], 1 // 1: whole-text loss
		if rng.Float64() < pretrainAnswerFrac {
			from[k] = d.from[j]
		}
	}
	return bs, from
}

func toIDs(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, v := range ids {
		out[i] = int32(v)
	}
	return out
}

// pretrain trains a preset from scratch on the pretraining worlds of every
// built-in family (newPretrainData), the workbench's stand-in for an LLM's
// pretraining: the base model learns every suite's question form and how to
// store and use a world's facts, but no task world. It resumes from
// dir+".partial" after an interruption and saves the finished model to dir.
func (w *Workbench) pretrain(ctx context.Context, cfg models.Config, tok tokenizer.Tokenizer, dir string) (*models.Model, error) {
	p := w.cfg.Pipeline
	data := newPretrainData(tok, cfg.MaxPositions)

	params := models.NewRandom(cfg, 1)
	st := train.NewAdamState(params)
	partial := dir + ".partial"
	if ck, err := models.LoadCheckpoint(partial); err == nil && ck.Optimizer != nil {
		if resumed, err := train.AdamStateFromParams(ck.Optimizer); err == nil {
			params, st = ck.Weights, resumed
			w.bus.Publish(events.Event{Kind: events.Log, Stage: StageBase, Message: fmt.Sprintf("resuming pretraining at step %d", st.Step)})
		}
	}
	step, err := train.NewFullStep(w.backend, cfg, train.DefaultAdam())
	if err != nil {
		return nil, err
	}

	lr, total, start := p.PretrainLR, p.PretrainSteps, time.Now()
	for i := st.Step; i < total; {
		if err := ctx.Err(); err != nil {
			// Quitting (q, Ctrl-C, a closed session) keeps the progress made
			// since the last periodic checkpoint: the next start resumes here.
			if i > 0 && i%pretrainSaveEvery != 0 {
				_ = saveBase(partial, cfg, tok, params, st, start)
			}
			return nil, err
		}
		bs, from := data.batch(i, p.PretrainBatch, cfg.MaxPositions)
		batch, err := train.MakeBatch(bs, from, train.DefaultBucket, cfg.MaxPositions)
		if err != nil {
			return nil, err
		}
		// Cosine decay after a short warm-up: tiny models trained from scratch need both.
		cur := lr * min(1, float64(i+1)/30) * 0.5 * (1 + math.Cos(math.Pi*float64(i)/float64(total)))
		t0 := time.Now()
		res, err := step.Run(nil, params, st, batch, train.Hyper{LR: cur, WeightDecay: 0.01})
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
			if err := saveBase(partial, cfg, tok, params, st, start); err != nil {
				return nil, err
			}
		}
	}
	if err := saveBase(dir, cfg, tok, params, nil, start); err != nil {
		return nil, err
	}
	_ = removeCheckpoint(partial)
	m := &models.Model{Config: cfg, Params: params, Tokenizer: tok}
	w.reportPretraining(m)
	return m, nil
}

// reportPretraining logs the base model's accuracy on its own pretraining
// worlds (did it learn every suite's question form?) and on a task world
// (it should not know one: chance).
func (w *Workbench) reportPretraining(m *models.Model) {
	acc := func(exs []tasks.Example) float64 {
		probs, err := train.OptionProbs(w.backend, m, nil, nil, exs)
		if err != nil {
			return math.NaN()
		}
		right := 0
		for i, p := range probs {
			best := 0
			for j := range p {
				if p[j] > p[best] {
					best = j
				}
			}
			if best == exs[i].Answer {
				right++
			}
		}
		return float64(right) / float64(len(exs))
	}
	var parts []string
	fams := pretrainFamilies
	if fams == nil {
		fams = suites.All()
	}
	for _, f := range fams {
		t, _ := suites.Pretraining(f, 0, 0)
		parts = append(parts, fmt.Sprintf("%s %.0f/%.0f%%", f.Name(), 100*acc(t.Splits.Test[:32]), 100*acc(f.Instance(0, EvalFirstInstance, "").Splits.Test[:32])))
	}
	w.bus.Publish(events.Event{Kind: events.Log, Stage: StageBase, Message: "base accuracy on a pretraining world / a task world: " + strings.Join(parts, ", ")})
}

func saveBase(dir string, cfg models.Config, tok tokenizer.Tokenizer, params models.Params, st *train.AdamState, start time.Time) error {
	ck := &models.Checkpoint{Config: cfg, Tokenizer: tok.Name(), Weights: params,
		Metadata: map[string]string{"stage": "pretrain", "elapsed": time.Since(start).Round(time.Second).String()}}
	if st != nil {
		ck.Step, ck.Optimizer = int64(st.Step), st.AsParams()
	}
	return models.SaveCheckpoint(dir, ck)
}
