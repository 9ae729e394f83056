package degaml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/degaml/workbench/core/meta"
)

// Adaptation families of the hypothesis space.
const (
	FamTTT  = "ttt"
	FamTTS  = "tts"
	FamMix  = "mix"
	FamSLOT = "slot"
	// FamSFT fine-tunes the generated adapter on the labelled support set
	// (not one of the paper's four: the support labels every baseline gets).
	FamSFT = "sft"
)

// Families lists the hypothesis families in a fixed order.
var Families = []string{FamTTT, FamTTS, FamMix, FamSLOT, FamSFT}

// Hypothesis is one point of the discrete hypothesis space: a family plus its
// hyperparameters. The paper's policy is an LLM emitting this record as JSON;
// ours indexes a fixed grid, which keeps the policy a tiny softmax model.
type Hypothesis struct {
	Family string
	Params map[string]float64
}

// String renders the hypothesis compactly, e.g. "ttt{batch=4 lr=0.001 steps=6}".
func (h Hypothesis) String() string {
	keys := make([]string, 0, len(h.Params))
	for k := range h.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(h.Params[k], 'g', 4, 64)
	}
	return h.Family + "{" + strings.Join(parts, " ") + "}"
}

// HypothesisGrid enumerates the hypothesis space of o's family grids.
// Params keys: ttt steps/lr/batch, tts k/maxconf (0 majority, 1 max
// confidence), mix lambda, slot steps/lr, sft steps/lr/batch.
func HypothesisGrid(o meta.DeGAMLOptions) []Hypothesis {
	o = o.WithDefaults()
	var hs []Hypothesis
	for _, s := range o.TTTSteps {
		for _, lr := range o.TTTLRs {
			for _, b := range o.TTTBatch {
				hs = append(hs, Hypothesis{FamTTT, map[string]float64{"steps": float64(s), "lr": lr, "batch": float64(b)}})
			}
		}
	}
	for _, k := range o.TTSSizes {
		for _, mc := range []float64{0, 1} {
			hs = append(hs, Hypothesis{FamTTS, map[string]float64{"k": float64(k), "maxconf": mc}})
		}
	}
	for _, l := range o.MixLambdas {
		hs = append(hs, Hypothesis{FamMix, map[string]float64{"lambda": l}})
	}
	for _, s := range o.SlotSteps {
		for _, lr := range o.SlotLRs {
			hs = append(hs, Hypothesis{FamSLOT, map[string]float64{"steps": float64(s), "lr": lr}})
		}
	}
	for _, s := range o.SFTSteps {
		for _, lr := range o.SFTLRs {
			hs = append(hs, Hypothesis{FamSFT, map[string]float64{"steps": float64(s), "lr": lr, "batch": float64(o.SFTBatch)}})
		}
	}
	return hs
}

// Policy is a softmax over the hypothesis grid conditioned on task features:
// π(h | φ) ∝ exp(W[h]·φ). W = 0 is the uniform policy.
type Policy struct {
	Hyps []Hypothesis
	W    [][]float64 // [len(Hyps)][feature dim]
}

// newUniformPolicy returns the W = 0 policy over hyps for features of size f.
func newUniformPolicy(hyps []Hypothesis, f int) *Policy {
	w := make([][]float64, len(hyps))
	for i := range w {
		w[i] = make([]float64, f)
	}
	return &Policy{Hyps: hyps, W: w}
}

// Probs returns π(· | phi).
func (p *Policy) Probs(phi []float64) []float64 {
	logits := make([]float64, len(p.W))
	for h, w := range p.W {
		for j, x := range phi {
			if j < len(w) {
				logits[h] += w[j] * x
			}
		}
	}
	return dgSoftmax(logits)
}

func dgSoftmax(z []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	out := make([]float64, len(z))
	var s float64
	for i, v := range z {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// drawWithout draws one index from probs restricted to allowed (and not yet
// taken), or -1 when nothing is left.
func drawWithout(rng *rand.Rand, probs []float64, allowed func(int) bool, taken map[int]bool) int {
	var mass float64
	for i, p := range probs {
		if allowed(i) && !taken[i] {
			mass += p
		}
	}
	if mass <= 0 {
		// Zero-mass leftovers: fall back to uniform over what is allowed.
		var idx []int
		for i := range probs {
			if allowed(i) && !taken[i] {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return -1
		}
		return idx[rng.IntN(len(idx))]
	}
	u := rng.Float64() * mass
	last := -1
	for i, p := range probs {
		if !allowed(i) || taken[i] {
			continue
		}
		last = i
		u -= p
		if u <= 0 {
			return i
		}
	}
	return last
}

// SampleSet draws n distinct hypotheses from π(· | phi), at least minPer of
// each family (the paper asks for ≥2 per family so that every family keeps
// being explored even once the policy is confident).
func (p *Policy) SampleSet(rng *rand.Rand, phi []float64, n, minPer int) []int {
	probs := p.Probs(phi)
	taken := map[int]bool{}
	var out []int
	for _, fam := range Families {
		for range minPer {
			i := drawWithout(rng, probs, func(i int) bool { return p.Hyps[i].Family == fam }, taken)
			if i < 0 {
				break
			}
			taken[i] = true
			out = append(out, i)
		}
	}
	for len(out) < n {
		i := drawWithout(rng, probs, func(int) bool { return true }, taken)
		if i < 0 {
			break
		}
		taken[i] = true
		out = append(out, i)
	}
	return out
}

// TopK returns the k most probable hypotheses under π(· | phi), best first.
func (p *Policy) TopK(phi []float64, k int) []int {
	probs := p.Probs(phi)
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	if k > len(idx) {
		k = len(idx)
	}
	return idx[:k]
}

// policySample is one reward-1 (features, hypothesis) pair of ReST^EM.
type policySample struct {
	Phi []float64
	H   int
}

// fitPolicy is ReST^EM's M-step: maximum likelihood of the reward-1
// hypotheses under a softmax-regression policy, by full-batch gradient descent
// with a small L2 penalty (which keeps the logits finite when a hypothesis is
// always rewarded). It starts from the uniform policy, as ReST^EM fine-tunes
// the base policy, not the previous iterate, to limit drift.
func fitPolicy(hyps []Hypothesis, f int, data []policySample, epochs int, lr, l2 float64) *Policy {
	p := newUniformPolicy(hyps, f)
	if len(data) == 0 {
		return p
	}
	k := len(hyps)
	grad := make([][]float64, k)
	for i := range grad {
		grad[i] = make([]float64, f)
	}
	for range epochs {
		for i := range grad {
			clear(grad[i])
		}
		for _, s := range data {
			probs := p.Probs(s.Phi)
			for h := range k {
				g := probs[h]
				if h == s.H {
					g -= 1
				}
				for j, x := range s.Phi {
					if j < f {
						grad[h][j] += g * x
					}
				}
			}
		}
		n := float64(len(data))
		for h := range k {
			for j := range f {
				p.W[h][j] -= lr * (grad[h][j]/n + 2*l2*p.W[h][j])
			}
		}
	}
	return p
}

// restemConfig is the part of DeGAMLOptions the ReST^EM driver needs.
type restemConfig struct {
	Iterations, Hypotheses, MinPerFamily, Epochs int
	LR, L2                                       float64
	Seed                                         int64
}

// restemRunner executes hypotheses hs (grid indices) on task t at iteration
// it and returns one reward (0 or 1) per hypothesis. The runner owns
// co-evolution (carrying the best adapter of a task into the next iteration)
// and event emission; the driver owns sampling and the policy update.
type restemRunner func(ctx context.Context, it, t int, hs []int) ([]float64, error)

// runReSTEM trains a policy by ReST^EM (filtered self-training): per
// iteration, sample hypotheses per task from the current policy (E-step),
// execute them, keep the reward-1 ones and refit the policy on them by
// maximum likelihood (M-step) on the reward-1 hypotheses of all iterations
// so far. phis holds each task's features.
func runReSTEM(ctx context.Context, hyps []Hypothesis, phis [][]float64, cfg restemConfig, run restemRunner) (*Policy, error) {
	if len(phis) == 0 {
		return nil, fmt.Errorf("degaml: no tasks to train the policy on")
	}
	f := len(phis[0])
	pol := newUniformPolicy(hyps, f)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))
	// Reward-1 data of every iteration: the final policy is fit on all of it,
	// not only on the last iteration's (gathered from co-evolved adapters).
	var data []policySample
	for it := range cfg.Iterations {
		for t, phi := range phis {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			hs := pol.SampleSet(rng, phi, cfg.Hypotheses, cfg.MinPerFamily)
			rewards, err := run(ctx, it, t, hs)
			if err != nil {
				return nil, err
			}
			for i, h := range hs {
				if i < len(rewards) && rewards[i] > 0 {
					data = append(data, policySample{Phi: phi, H: h})
				}
			}
		}
		if len(data) > 0 { // nothing rewarded: keep the current policy
			pol = fitPolicy(hyps, f, data, cfg.Epochs, cfg.LR, cfg.L2)
		}
	}
	return pol, nil
}
