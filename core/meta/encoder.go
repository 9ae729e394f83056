package meta

import (
	"context"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/tasks"
)

// The prompt encoder of the generalization module. The paper embeds each
// unlabeled prompt with Sentence-BERT; we have no sentence encoder offline, so
// the frozen base model itself is the encoder: the mean of its final hidden
// states over the prompt's tokens. Only DnDPrompt() is read — never System,
// never the answer — so the generator sees exactly what a user can supply
// about a new task without labels.

// encodeChunk is the batch size of encoder calls; the last chunk is padded by
// repetition so every call has the same batch dimension (one compiled graph
// per length bucket).
const encodeChunk = 16

// EncodePrompts returns one H-dimensional embedding per example.
func (r *dgRuntime) EncodePrompts(ctx context.Context, exs []tasks.Example, maxTokens int) ([][]float32, error) {
	tok := r.env.Model.Tokenizer
	limit := r.maxSeq(maxTokens)
	out := make([][]float32, 0, len(exs))
	H := r.cfg.HiddenSize
	for start := 0; start < len(exs); start += encodeChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(encodeChunk, len(exs)-start)
		seqs := make([][]int, encodeChunk)
		L := 1
		for i := range encodeChunk {
			ids := tok.Encode(exs[start+i%n].DnDPrompt())
			if len(ids) > limit {
				ids = ids[:limit] // the question's start is the most task-specific part
			}
			if len(ids) == 0 {
				ids = []int{0}
			}
			seqs[i] = ids
			L = max(L, len(ids))
		}
		L = min((L+seqBucket-1)/seqBucket*seqBucket, r.cfg.MaxPositions)
		ids := make([]int32, encodeChunk*L)
		mask := make([]float32, encodeChunk*L)
		for i, s := range seqs {
			for t, id := range s {
				ids[i*L+t] = int32(id)
				mask[i*L+t] = 1
			}
		}
		args := anys(r.base, []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(ids, encodeChunk, L),
			tensors.FromFlatDataAndDimensions(mask, encodeChunk, L),
		})
		res, err := r.embedExec.Call(args...)
		if err != nil {
			return nil, err
		}
		flat := tensors.MustCopyFlatData[float32](res[0])
		for i := range n {
			out = append(out, append([]float32(nil), flat[i*H:(i+1)*H]...))
		}
	}
	return out, nil
}

// samplePromptBatch picks P prompt indices out of n: a random subset when
// there are enough prompts, otherwise every prompt repeated in a shuffled
// cycle (the paper repeats prompts when a task has fewer than 128).
func samplePromptBatch(rng *rand.Rand, n, P int) []int {
	out := make([]int, P)
	perm := rng.Perm(n)
	for i := range P {
		out[i] = perm[i%n]
	}
	return out
}

// promptSubset returns at most n of exs, a seeded random subset: encoding
// every prompt of a task costs a forward pass each, and a few dozen already
// pin down the task for the generator.
func promptSubset(exs []tasks.Example, n int, seed int64) []tasks.Example {
	if n <= 0 || len(exs) <= n {
		return exs
	}
	return shuffledCopy(newRNG(seed, 0x50), exs)[:n]
}
