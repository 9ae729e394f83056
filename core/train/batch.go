package train

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
)

// DefaultBucket is the sequence-length bucket: batches are padded to a multiple of it so an Exec sees few
// distinct shapes (its cache holds 32).
const DefaultBucket = 32

// BucketLen rounds n up to a multiple of bucket (at least one bucket).
func BucketLen(n, bucket int) int {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	if n <= 0 {
		return bucket
	}
	return (n + bucket - 1) / bucket * bucket
}

// Batch is a right-padded training batch: IDs and Targets int32 [B,T], Weights float32 [B,T] (1 where a
// target counts). Tokens is the number of real (unpadded) tokens, for throughput reports.
type Batch struct {
	IDs, Targets, Weights *tensors.Tensor
	B, T, Tokens          int
}

// MakeBatch pads seqs on the right to BucketLen(longest, bucket) (or exactly maxLen when maxLen > 0 and larger),
// and sets targets/weights with models.ShiftTargets: the loss counts targets from lossFrom[i] on (nil lossFrom =
// every predictable position); padding never counts. Sequences longer than maxLen (> 0) are an error.
func MakeBatch(seqs [][]int32, lossFrom []int, bucket, maxLen int) (*Batch, error) {
	if len(seqs) == 0 {
		return nil, fmt.Errorf("train: empty batch")
	}
	if lossFrom == nil {
		lossFrom = make([]int, len(seqs))
		for i := range lossFrom {
			lossFrom[i] = 1
		}
	}
	if len(lossFrom) != len(seqs) {
		return nil, fmt.Errorf("train: %d lossFrom for %d sequences", len(lossFrom), len(seqs))
	}
	longest, tokens := 0, 0
	for i, s := range seqs {
		if len(s) == 0 {
			return nil, fmt.Errorf("train: sequence %d is empty", i)
		}
		if maxLen > 0 && len(s) > maxLen {
			return nil, fmt.Errorf("train: sequence %d has %d tokens, more than the context %d", i, len(s), maxLen)
		}
		longest = max(longest, len(s))
		tokens += len(s)
	}
	T := BucketLen(longest, bucket)
	if maxLen > 0 && T > maxLen {
		T = maxLen
	}
	// ShiftTargets sees the unpadded sequences, so padding can never be mistaken for a target.
	tg, wt := models.ShiftTargets(seqs, lossFrom)
	B := len(seqs)
	ids := make([]int32, B*T)
	targets := make([]int32, B*T)
	weights := make([]float32, B*T)
	for b, s := range seqs {
		copy(ids[b*T:], s)
		copy(targets[b*T:], tg[b])
		copy(weights[b*T:], wt[b])
	}
	return &Batch{
		IDs:     tensors.FromFlatDataAndDimensions(ids, B, T),
		Targets: tensors.FromFlatDataAndDimensions(targets, B, T),
		Weights: tensors.FromFlatDataAndDimensions(weights, B, T),
		B:       B, T: T, Tokens: tokens,
	}, nil
}
