package models

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Sampler draws next-token ids from a logits vector on the Go side. Sampling
// on the host keeps the step graph identical for greedy and sampled decoding
// (one compiled executable), and the logits of one position are small.
type Sampler struct {
	Temperature float64 // <= 0: greedy
	TopK        int     // <= 0: no top-k filter
	TopP        float64 // <= 0 or >= 1: no nucleus filter
	rng         *rand.Rand
}

// NewSampler returns a sampler whose draws are a pure function of seed.
func NewSampler(seed uint64, temperature float64, topK int, topP float64) *Sampler {
	return &Sampler{Temperature: temperature, TopK: topK, TopP: topP,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Argmax returns the index of the largest logit (the first one on ties, as
// torch.argmax does); NaN entries are never chosen.
func Argmax(logits []float32) int {
	best, bi := float32(math.Inf(-1)), 0
	for i, v := range logits {
		if v > best {
			best, bi = v, i
		}
	}
	return bi
}

// Probs returns the distribution the sampler draws from: softmax(logits/T),
// restricted to the top-k, then to the smallest prefix (by descending
// probability) whose mass reaches top-p, then renormalized. The order of the
// filters follows Hugging Face's logits processors (temperature, top-k, top-p).
func (s *Sampler) Probs(logits []float32) []float64 {
	n := len(logits)
	p := make([]float64, n)
	if n == 0 {
		return p
	}
	if s.Temperature <= 0 {
		p[Argmax(logits)] = 1
		return p
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	// Stable sort so ties keep the lower id first, which makes the filters deterministic.
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	keep := n
	if s.TopK > 0 && s.TopK < keep {
		keep = s.TopK
	}
	maxL := float64(logits[idx[0]]) / s.Temperature
	var sum float64
	for _, i := range idx[:keep] {
		v := math.Exp(float64(logits[i])/s.Temperature - maxL)
		if math.IsNaN(v) {
			v = 0
		}
		p[i] = v
		sum += v
	}
	if sum == 0 || math.IsInf(sum, 0) {
		clear(p)
		p[idx[0]] = 1
		return p
	}
	for _, i := range idx[:keep] {
		p[i] /= sum
	}
	if s.TopP > 0 && s.TopP < 1 {
		var cum float64
		cut := keep
		for r, i := range idx[:keep] {
			cum += p[i]
			if cum >= s.TopP {
				cut = r + 1
				break
			}
		}
		var mass float64
		for r, i := range idx[:keep] {
			if r >= cut {
				p[i] = 0
			} else {
				mass += p[i]
			}
		}
		for _, i := range idx[:cut] {
			p[i] /= mass
		}
	}
	return p
}

// Sample draws one token id. With Temperature <= 0 it is Argmax.
func (s *Sampler) Sample(logits []float32) int {
	if s.Temperature <= 0 {
		return Argmax(logits)
	}
	p := s.Probs(logits)
	u := s.rng.Float64()
	last := 0
	for i, v := range p {
		if v <= 0 {
			continue
		}
		last = i
		u -= v
		if u < 0 {
			return i
		}
	}
	return last // rounding left a sliver of mass: take the last kept id
}
