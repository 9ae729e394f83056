package degaml

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/tasks"
)

// The prompt encoder of the generalization module. The paper embeds each
// unlabeled prompt with Sentence-BERT; we have no sentence encoder offline.
// What a generator can use is what the prompts reveal about the task, so the
// default embedding is a bag of tokens: the frequency of every token of the
// tokenizer's vocabulary in the prompt, plus hashed frequencies of token
// pairs at distance 1 and 2 (which keep "which property goes with which
// entity" in fact lines such as "the tin is buoyant").
// Averaged over a batch of prompts it is the task's token distribution. A
// prototype of the same model size measured that the mean-pooled hidden
// state of the tiny frozen base did NOT separate tasks that share latent
// structure, while a bag of tokens did (../shared/SUITES-V2.md); the hidden
// state stays available ("hidden", "bow+hidden"). Only DnDPrompt() is read —
// never System, never the answer — so the generator sees exactly what a user
// can supply about a new task without labels.

// maxBOWVocab caps the unigram part: a real BPE vocabulary (~150k ids) is
// hashed into this many buckets (id mod maxBOWVocab), a closed word or byte
// vocabulary is used exactly.
const maxBOWVocab = 4096

// EmbedSpec says how a prompt becomes a feature vector; it is stored with the
// generator so generation computes the same features as training.
type EmbedSpec struct {
	Kind    string // EmbedBOW, EmbedHidden or EmbedBOWHidden
	Vocab   int    // unigram buckets (0 for "hidden")
	Bigrams int    // hashed token-pair buckets (0: none)
	// PairDist: token pairs at distance 1..PairDist share the buckets
	// (distance 2 catches "tin is buoyant"-style facts whose two content
	// words are not adjacent).
	PairDist int
	Hidden   int // hidden-state width (0 unless Kind includes it)
}

// Dim is the feature width.
func (s EmbedSpec) Dim() int { return s.Vocab + s.Bigrams + s.Hidden }

func (s EmbedSpec) hasBOW() bool { return s.Kind == meta.EmbedBOW || s.Kind == meta.EmbedBOWHidden }
func (s EmbedSpec) hasHidden() bool {
	return s.Kind == meta.EmbedHidden || s.Kind == meta.EmbedBOWHidden
}

// embedSpecFor resolves the options against the model's tokenizer and width.
func (r *dgRuntime) embedSpecFor(o meta.DeGAMLOptions) (EmbedSpec, error) {
	s := EmbedSpec{Kind: o.EmbedKind}
	switch s.Kind {
	case meta.EmbedBOW, meta.EmbedHidden, meta.EmbedBOWHidden:
	default:
		return s, fmt.Errorf("degaml: embed %q (want %s, %s or %s)", s.Kind, meta.EmbedBOW, meta.EmbedHidden, meta.EmbedBOWHidden)
	}
	if s.hasBOW() {
		s.Vocab = min(max(r.env.Model.Tokenizer.VocabSize(), r.cfg.VocabSize, 1), maxBOWVocab)
		s.Bigrams = max(o.EmbedBigrams, 0)
		if s.Bigrams > 0 {
			s.PairDist = max(o.EmbedPairDist, 1)
		}
	}
	if s.hasHidden() {
		s.Hidden = r.cfg.HiddenSize
	}
	return s, nil
}

// bowFeatures writes the bag-of-tokens part of one prompt into dst
// (len Vocab+Bigrams): unigram frequencies, then bigram frequencies.
func bowFeatures(ids []int, s EmbedSpec, dst []float32) {
	if len(ids) == 0 {
		return
	}
	u := 1 / float32(len(ids))
	for _, id := range ids {
		dst[((id%s.Vocab)+s.Vocab)%s.Vocab] += u
	}
	if s.Bigrams <= 0 {
		return
	}
	for d := 1; d <= max(s.PairDist, 1) && d < len(ids); d++ {
		b := 1 / float32(len(ids)-d)
		for i := d; i < len(ids); i++ {
			// A fixed multiplicative hash of (left, right, distance): the
			// buckets must be the same in every process (the artifact stores
			// only their number).
			h := uint64(ids[i-d])*0x9e3779b97f4a7c15 ^ uint64(ids[i])*0xc2b2ae3d27d4eb4f ^ uint64(d)*0x165667b19e3779f9
			h ^= h >> 29
			dst[s.Vocab+int(h%uint64(s.Bigrams))] += b
		}
	}
}

// EncodePrompts returns one feature vector (spec.Dim()) per example.
func (r *dgRuntime) EncodePrompts(ctx context.Context, exs []tasks.Example, spec EmbedSpec, maxTokens int) ([][]float32, error) {
	out := make([][]float32, len(exs))
	limit := r.maxSeq(maxTokens)
	tok := r.env.Model.Tokenizer
	for i, e := range exs {
		out[i] = make([]float32, spec.Dim())
		if spec.hasBOW() {
			ids := tok.Encode(e.DnDPrompt())
			if len(ids) > limit {
				ids = ids[:limit] // the question's start is the most task-specific part
			}
			bowFeatures(ids, spec, out[i][:spec.Vocab+spec.Bigrams])
		}
	}
	if spec.hasHidden() {
		hid, err := r.hiddenEmbeddings(ctx, exs, maxTokens)
		if err != nil {
			return nil, err
		}
		off := spec.Vocab + spec.Bigrams
		for i := range out {
			copy(out[i][off:], hid[i])
		}
	}
	return out, nil
}

// encodeChunk is the batch size of encoder calls; the last chunk is padded by
// repetition so every call has the same batch dimension (one compiled graph
// per length bucket).
const encodeChunk = 16

// hiddenEmbeddings returns the mean of the frozen base model's final hidden
// states over each prompt's tokens, one [H] row per example.
func (r *dgRuntime) hiddenEmbeddings(ctx context.Context, exs []tasks.Example, maxTokens int) ([][]float32, error) {
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
				ids = ids[:limit]
			}
			if len(ids) == 0 {
				ids = []int{0}
			}
			seqs[i] = ids
			L = max(L, len(ids))
		}
		L = min(train.BucketLen(L, train.AdaptBucket), r.cfg.MaxPositions)
		ids := make([]int32, encodeChunk*L)
		mask := make([]float32, encodeChunk*L)
		for i, s := range seqs {
			for t, id := range s {
				ids[i*L+t] = int32(id)
				mask[i*L+t] = 1
			}
		}
		args := kit.Anys(r.base, []*tensors.Tensor{
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

// promptSubset returns at most n of exs, a seeded random subset: a few
// dozen prompts already pin down the task for the generator.
func promptSubset(exs []tasks.Example, n int, seed int64) []tasks.Example {
	if n <= 0 || len(exs) <= n {
		return exs
	}
	return kit.ShuffledCopy(kit.NewRNG(seed, 0x50), exs)[:n]
}

// batchMean is the mean feature vector of the prompts idx of emb.
func batchMean(emb [][]float32, idx []int) []float64 {
	if len(emb) == 0 {
		return nil
	}
	out := make([]float64, len(emb[0]))
	for _, j := range idx {
		for h, v := range emb[j] {
			out[h] += float64(v)
		}
	}
	for h := range out {
		out[h] /= float64(len(idx))
	}
	return out
}
