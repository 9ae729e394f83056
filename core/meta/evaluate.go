package meta

import (
	"context"
	"fmt"
	"math"

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
	if err := env.Check(); err != nil {
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
		var noise *train.OutputNoise
		if i < len(a.Noise) && len(a.Ensemble) > 0 {
			noise = a.Noise[i]
		}
		if all[i], err = optionProbs(ctx, env, m, a.SlotDelta, noise, examples); err != nil {
			return 0, 0, nil, err
		}
	}
	probs = combine(all, a.Vote)
	answers := make([]int, len(examples))
	for i, e := range examples {
		answers[i] = e.Answer
	}
	return AccuracyOf(probs, examples), scoring.ECE(probs, answers, eceBins), probs, nil
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

// optionProbs scores examples with one adapter (nil: base model) and SLOT δ
// through core/train's process-wide scorer (compiled graphs are shared with
// every other caller). Examples without options get nil. Work is chunked so a
// cancelled context stops a long evaluation.
func optionProbs(ctx context.Context, env *Env, ad *models.Adapter, delta []float32, noise *train.OutputNoise, examples []tasks.Example) ([][]float64, error) {
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
		p, err := sc.OptionProbsNoisy(ad, delta, noise, exs)
		if err != nil {
			return nil, fmt.Errorf("meta: scoring: %w", err)
		}
		for j, i := range part {
			probs[i] = p[j]
		}
	}
	return probs, nil
}

// Vote rules of a TTS ensemble.
const (
	VoteMajority = "majority"
	VoteMaxConf  = "maxconf"
)

// CombineVotes merges the option probabilities of an ensemble (members[m][i]
// = member m's probabilities on item i) into one distribution per item.
// "majority": each member votes for its arg-max; the result is the vote share
// (ties broken by the summed probabilities, so the arg-max is well defined).
// "maxconf": the item takes the distribution of its most confident member.
func CombineVotes(members [][][]float64, vote string) [][]float64 {
	if len(members) == 0 {
		return nil
	}
	n := len(members[0])
	out := make([][]float64, n)
	for i := range n {
		k := len(members[0][i])
		switch vote {
		case VoteMaxConf:
			best, bestConf := 0, -1.0
			for m := range members {
				if c := MaxOf(members[m][i]); c > bestConf {
					best, bestConf = m, c
				}
			}
			out[i] = append([]float64(nil), members[best][i]...)
		default:
			votes := make([]float64, k)
			sum := make([]float64, k)
			for m := range members {
				votes[ArgMax(members[m][i])]++
				for j, p := range members[m][i] {
					sum[j] += p
				}
			}
			// A tiny share of the summed probability breaks ties without
			// ever overturning a vote difference.
			var tot float64
			for j := range votes {
				votes[j] += 1e-6 * sum[j] / float64(len(members))
				tot += votes[j]
			}
			for j := range votes {
				votes[j] /= tot
			}
			out[i] = votes
		}
	}
	return out
}

// ArgMax is the index of the largest probability (the first on ties).
func ArgMax(p []float64) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}

// MaxOf is the largest value of p (-Inf when empty).
func MaxOf(p []float64) float64 {
	m := math.Inf(-1)
	for _, v := range p {
		m = math.Max(m, v)
	}
	return m
}

// AccuracyOf is the arg-max accuracy of probs against exs' answers.
func AccuracyOf(probs [][]float64, exs []tasks.Example) float64 {
	if len(exs) == 0 {
		return 0
	}
	c := 0
	for i, e := range exs {
		if i < len(probs) && len(probs[i]) > 0 && ArgMax(probs[i]) == e.Answer {
			c++
		}
	}
	return float64(c) / float64(len(exs))
}
