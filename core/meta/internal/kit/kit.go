// Package kit holds what the method packages (core/meta/...) share: episode
// batches and sampling, the bi-level support/query tail that MAML-en-LLM and
// ABMLL both run, event and tensor plumbing.
package kit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/tasks"
	"github.com/gomlx/gomlx/core/tensors"
)

// EncodeBatch tokenizes labelled examples in the workbench format into a
// batch of the adaptation bucket (answerOnly: the loss counts the answer
// tokens only). Over-long sequences keep their end (train.EncodeExamples).
func EncodeBatch(env *meta.Env, exs []tasks.Example, answerOnly bool) *train.Batch {
	return MustBatch(train.EncodeExamples(env.Model.Tokenizer, env.Model.Config, exs, answerOnly, 0, train.AdaptBucket))
}

// MustBatch unwraps a batch that cannot fail: callers pass a non-empty list
// of examples, every encoded example holds at least its BOS token, and
// sequences are clipped to the context before batching.
func MustBatch(b *train.Batch, err error) *train.Batch {
	if err != nil {
		panic(fmt.Sprintf("meta: batching: %v", err))
	}
	return b
}

// SampleExamples draws n examples from pool: a random permutation prefix when
// the pool is large enough, with replacement otherwise.
func SampleExamples(rng *rand.Rand, pool []tasks.Example, n int) []tasks.Example {
	out := make([]tasks.Example, n)
	if len(pool) >= n {
		perm := rng.Perm(len(pool))
		for i := range n {
			out[i] = pool[perm[i]]
		}
		return out
	}
	for i := range n {
		out[i] = pool[rng.IntN(len(pool))]
	}
	return out
}

// Labelled keeps the examples with a known option answer (support/query
// batches need the answer for the answer-only loss).
func Labelled(exs []tasks.Example) []tasks.Example {
	var out []tasks.Example
	for _, e := range exs {
		if e.Answer >= 0 && e.Answer < len(e.Options) {
			out = append(out, e)
		}
	}
	return out
}

// NewRNG returns a deterministic generator for a (seed, stream) pair.
func NewRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// StepEvent fills the fields every method reports on a Step.
func StepEvent(method, task, phase string, step, total int, lr float64, start time.Time) events.Event {
	return events.Event{Kind: events.Step, Method: method, Task: task, Phase: phase, Step: step, Total: total,
		LR: events.F(lr), MS: float64(time.Since(start).Microseconds()) / 1000}
}

// Finite reports whether every value is a finite number.
func Finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// ScalarF reads a scalar tensor as float64 whatever its float dtype.
func ScalarF(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case bool:
		if v {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("meta: scalar of unexpected type %T", t.Value()))
}

// Warn publishes a Warning (e.g. a rejected non-finite step).
func Warn(env *meta.Env, method, task, msg string) {
	env.Publish(events.Event{Kind: events.Warning, Method: method, Task: task, Message: msg})
}

// ZerosLike returns zero tensors shaped like ts.
func ZerosLike(ts []*tensors.Tensor) []*tensors.Tensor {
	out := make([]*tensors.Tensor, len(ts))
	for i, t := range ts {
		out[i] = tensors.FromShape(t.Shape())
	}
	return out
}

// F32 is x as a float32 scalar tensor.
func F32(x float64) *tensors.Tensor { return tensors.FromScalar(float32(x)) }

// Anys flattens tensor groups into exec arguments.
func Anys(groups ...[]*tensors.Tensor) []any {
	var out []any
	for _, g := range groups {
		for _, t := range g {
			out = append(out, t)
		}
	}
	return out
}

// Unlabeled strips answers: TTT and SLOT must never see labels.
func Unlabeled(exs []tasks.Example) []tasks.Example {
	out := make([]tasks.Example, len(exs))
	for i, e := range exs {
		e.Answer = -1
		e.Target = ""
		out[i] = e
	}
	return out
}

// ShuffledCopy returns exs in a random order.
func ShuffledCopy(rng *rand.Rand, exs []tasks.Example) []tasks.Example {
	out := append([]tasks.Example(nil), exs...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// AdaptStart is the opening every meta-trained method's Adapt shares: the
// environment is usable and the artifact is the method's own, not nil.
func AdaptStart[A any](env *meta.Env, art meta.Artifact, method string) (*A, error) {
	if err := env.Check(); err != nil {
		return nil, err
	}
	return artifactOf[A](art, method)
}

func artifactOf[A any](art meta.Artifact, method string) (*A, error) {
	a, ok := any(art).(*A)
	if !ok || a == nil {
		return nil, fmt.Errorf("meta: %s needs its meta-trained artifact (got %T)", method, art)
	}
	return a, nil
}
