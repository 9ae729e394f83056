package meta

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/scoring"
)

// VoteMean averages the members' option probabilities: the Monte-Carlo
// predictive of a Bayesian ensemble (abmll with Predict "mc").
const VoteMean = "mean"

// eceBins is the number of equal-width confidence bins of the reported ECE.
const eceBins = 10

// evalBatch is the number of prompts scored per forward pass; a fixed batch
// size (short batches are padded) keeps the exec cache small.
const evalBatch = 16

// Evaluate scores examples with an adapted model: the next-token distribution
// after the prefix "… \nAnswer: [", restricted to the option letters and
// renormalized (ARCHITECTURE.md, "Text format and scoring"). With an
// ensemble, each member is scored and the results combined by a.Vote
// ("majority" | "maxconf" | "mean"). It returns the arg-max accuracy, the ECE
// (10 bins) and the option probabilities per example. Examples without
// options get nil probabilities and count as wrong.
func Evaluate(ctx context.Context, env *Env, a *Adapted, examples []tasks.Example) (acc, ece float64, probs [][]float64, err error) {
	if err := checkEnv(env); err != nil {
		return 0, 0, nil, err
	}
	if a == nil {
		a = &Adapted{}
	}
	members := a.Ensemble
	if len(members) == 0 {
		members = []*models.Adapter{a.Adapter}
	}
	all := make([][][]float64, len(members))
	for i, m := range members {
		if all[i], err = optionProbs(ctx, env, m, a.SlotDelta, examples); err != nil {
			return 0, 0, nil, err
		}
	}
	probs = combine(all, a.Vote)
	answers := make([]int, len(examples))
	for i, e := range examples {
		answers[i] = e.Answer
	}
	return accuracyOf(probs, examples), scoring.ECE(probs, answers, eceBins), probs, nil
}

// combine merges ensemble members' probabilities (members[m][i]) by vote.
func combine(members [][][]float64, vote string) [][]float64 {
	if len(members) == 1 {
		return members[0]
	}
	if vote != VoteMean {
		return CombineVotes(members, vote)
	}
	out := make([][]float64, len(members[0]))
	for i := range out {
		if len(members[0][i]) == 0 {
			continue
		}
		out[i] = make([]float64, len(members[0][i]))
		for m := range members {
			for j, p := range members[m][i] {
				out[i][j] += p / float64(len(members))
			}
		}
	}
	return out
}

// quickAccuracy is the accuracy of an adapter on a few examples, for live
// Step events; it reports false when there is nothing cheap to score.
func quickAccuracy(ctx context.Context, env *Env, ad *models.Adapter, exs []tasks.Example) (float64, bool) {
	if len(exs) == 0 || len(exs) > heldQuery {
		return 0, false
	}
	acc, _, _, err := Evaluate(ctx, env, &Adapted{Adapter: ad}, exs)
	return acc, err == nil
}

// scoreExec returns the last-position logits of each prompt:
// inputs base…, [A/B…], δ [H], ids int32 [B,T], pos int32 [B] → logits [B,V].
type scoreKey struct {
	env  *models.Model
	lora string // "" without adapter
}

var (
	scoreMu    sync.Mutex
	scoreExecs = map[scoreKey]*Exec{}
)

func scoreExec(env *Env, ad *models.Adapter) (*Exec, []string, error) {
	key := scoreKey{env: env.Model}
	var adNames []string
	var lora models.LoRAConfig
	if ad != nil {
		lora = ad.Config
		adNames = ad.Params.Names()
		key.lora = fmt.Sprintf("%+v|%d", lora, len(adNames))
	}
	scoreMu.Lock()
	defer scoreMu.Unlock()
	if e, ok := scoreExecs[key]; ok {
		return e, adNames, nil
	}
	cfg := env.Model.Config
	baseNames := env.Model.Params.Names()
	nb, na := len(baseNames), len(adNames)
	e, err := NewExec(env.Backend, func(in []*Node) *Node {
		base := models.Bind(baseNames, in[:nb])
		opt := models.ForwardOptions{HiddenDelta: in[nb+na]}
		if ad != nil {
			l := lora
			opt.LoRA, opt.Adapter = &l, models.Bind(adNames, in[nb:nb+na])
		}
		ids, pos := in[nb+na+1], in[nb+na+2]
		h := models.Hidden(cfg, base, ids, opt) // [B,T,H]
		T := ids.Shape().Dimensions[1]
		// Pick position pos[b] with a one-hot product (no Gather/Slice needed).
		sel := OneHot(pos, T, h.DType())                                                             // [B,T]
		last := ReduceSum(Mul(h, InsertAxes(sel, -1)), 1)                                            // [B,H]
		return Reshape(models.Logits(cfg, base, InsertAxes(last, 1)), ids.Shape().Dimensions[0], -1) // [B,V]
	})
	if err != nil {
		return nil, nil, err
	}
	scoreExecs[key] = e
	return e, adNames, nil
}

// optionProbs scores examples with one adapter (nil: base model) and SLOT δ.
func optionProbs(ctx context.Context, env *Env, ad *models.Adapter, delta []float32, examples []tasks.Example) ([][]float64, error) {
	exec, adNames, err := scoreExec(env, ad)
	if err != nil {
		return nil, err
	}
	cfg := env.Model.Config
	if delta == nil {
		delta = make([]float32, cfg.HiddenSize)
	}
	args := []any{}
	for _, t := range env.Model.Params.Tensors() {
		args = append(args, t)
	}
	for _, n := range adNames {
		args = append(args, ad.Params[n])
	}
	args = append(args, tensors.FromFlatDataAndDimensions(delta, len(delta)))
	probs := make([][]float64, len(examples))
	items := make([]train.MCItem, len(examples))
	var idx []int
	for i, e := range examples {
		if len(e.Options) == 0 {
			continue
		}
		it, err := train.EncodeMC(env.Model.Tokenizer, e)
		if err != nil {
			return nil, err
		}
		if n := len(it.Prefix); n > cfg.MaxPositions {
			it.Prefix = it.Prefix[n-cfg.MaxPositions:] // keep the end: the answer cue
		}
		items[i] = it
		idx = append(idx, i)
	}
	for start := 0; start < len(idx); start += evalBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := idx[start:min(start+evalBatch, len(idx))]
		T := 0
		for _, i := range chunk {
			T = max(T, len(items[i].Prefix))
		}
		T = min((T+seqBucket-1)/seqBucket*seqBucket, max(T, cfg.MaxPositions))
		ids := make([]int32, evalBatch*T)
		pos := make([]int32, evalBatch)
		for r, i := range chunk {
			copy(ids[r*T:], items[i].Prefix)
			pos[r] = int32(len(items[i].Prefix) - 1)
		}
		out, err := exec.Exec(append(args, tensors.FromFlatDataAndDimensions(ids, evalBatch, T),
			tensors.FromFlatDataAndDimensions(pos, evalBatch))...)
		if err != nil {
			return nil, fmt.Errorf("meta: scoring: %w", err)
		}
		logits := out[0]
		if logits.DType() != dtypes.Float32 {
			return nil, fmt.Errorf("meta: scoring: logits dtype %s", logits.DType())
		}
		flat := tensors.MustCopyFlatData[float32](logits)
		V := logits.Shape().Dimensions[1]
		for r, i := range chunk {
			probs[i] = letterSoftmax(flat[r*V:(r+1)*V], items[i].LetterIDs)
		}
	}
	return probs, nil
}

// letterSoftmax renormalizes the next-token distribution over the option
// letters' tokens (a softmax restricted to those logits).
func letterSoftmax(logits []float32, ids []int) []float64 {
	p := make([]float64, len(ids))
	mx := math.Inf(-1)
	for _, id := range ids {
		mx = math.Max(mx, float64(logits[id]))
	}
	var sum float64
	for j, id := range ids {
		p[j] = math.Exp(float64(logits[id]) - mx)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return p
}
