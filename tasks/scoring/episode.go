package scoring

import (
	"math/rand/v2"

	"github.com/degaml/workbench/tasks"
)

// DefaultPromptBatch is the DnD/DeGAML prompt-batch size.
const DefaultPromptBatch = 128

// SampleEpisode draws a support and a query set without replacement, so
// they never share an example (by position). When there are too few
// examples the support set is filled first and the query set gets the rest.
// A nil rng keeps file order.
func SampleEpisode(rng *rand.Rand, examples []tasks.Example, kSupport, kQuery int) (support, query []tasks.Example) {
	idx := perm(rng, len(examples))
	kSupport = clamp(kSupport, 0, len(idx))
	kQuery = clamp(kQuery, 0, len(idx)-kSupport)
	for _, i := range idx[:kSupport] {
		support = append(support, examples[i])
	}
	for _, i := range idx[kSupport : kSupport+kQuery] {
		query = append(query, examples[i])
	}
	return support, query
}

// PromptBatch returns n unlabeled DnD prompts (n ≤ 0 means 128), as the
// generator's input: a shuffled pass over the examples, repeated with fresh
// shuffles when there are fewer than n, so every prompt appears before any
// repeats. Gold responses are never included.
func PromptBatch(examples []tasks.Example, n int, rng *rand.Rand) []string {
	if len(examples) == 0 {
		return nil
	}
	if n <= 0 {
		n = DefaultPromptBatch
	}
	out := make([]string, 0, n)
	for len(out) < n {
		for _, i := range perm(rng, len(examples)) {
			if len(out) == n {
				break
			}
			out = append(out, examples[i].DnDPrompt())
		}
	}
	return out
}

func perm(rng *rand.Rand, n int) []int {
	if rng != nil {
		return rng.Perm(n)
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
