package meta

import (
	"context"
	"fmt"

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

// evalBatch is the scorer's batch: cancellation is checked every 4 batches.
const evalBatch = train.DefaultScoreBatch

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

// optionProbs scores examples with one adapter (nil: base model) and SLOT δ
// through core/train's process-wide scorer (compiled graphs are shared with
// every other caller). Examples without options get nil. Work is chunked so a
// cancelled context stops a long evaluation.
func optionProbs(ctx context.Context, env *Env, ad *models.Adapter, delta []float32, examples []tasks.Example) ([][]float64, error) {
	sc := train.ScorerFor(env.Backend, env.Model)
	probs := make([][]float64, len(examples))
	var idx []int
	for i, e := range examples {
		if len(e.Options) > 0 {
			idx = append(idx, i)
		}
	}
	const chunk = 4 * evalBatch
	for start := 0; start < len(idx); start += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := idx[start:min(start+chunk, len(idx))]
		exs := make([]tasks.Example, len(part))
		for j, i := range part {
			exs[j] = examples[i]
		}
		p, err := sc.OptionProbs(ad, delta, exs)
		if err != nil {
			return nil, fmt.Errorf("meta: scoring: %w", err)
		}
		for j, i := range part {
			probs[i] = p[j]
		}
	}
	return probs, nil
}
