package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/tasks"
)

// baseMethod is the frozen model: nothing to learn, nothing to adapt.
type baseMethod struct{}

func (baseMethod) Name() string { return Base }

func (baseMethod) MetaTrain(context.Context, *Env, []*tasks.Task) (Artifact, error) { return nil, nil }

func (baseMethod) LoadArtifact(string) (Artifact, error) { return nil, nil }

func (baseMethod) Adapt(ctx context.Context, env *Env, _ Artifact, task *tasks.Task, _ int64) (*Adapted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: Base, Task: task.Name, Message: "frozen base model, no adaptation"})
	return &Adapted{}, nil
}

// ---- helpers shared by the gradient-based methods (lora.go, maml.go, abmll.go) ----

// encodeBatch tokenizes labelled examples in the workbench format into a
// batch of the adaptation bucket (answerOnly: the loss counts the answer
// tokens only). Over-long sequences keep their end (train.EncodeExamples).
func encodeBatch(env *Env, exs []tasks.Example, answerOnly bool) *train.Batch {
	return mustBatch(train.EncodeExamples(env.Model.Tokenizer, env.Model.Config, exs, answerOnly, 0, train.AdaptBucket))
}

// mustBatch unwraps a batch that cannot fail: callers pass a non-empty list
// of examples, every encoded example holds at least its BOS token, and
// sequences are clipped to the context before batching.
func mustBatch(b *train.Batch, err error) *train.Batch {
	if err != nil {
		panic(fmt.Sprintf("meta: batching: %v", err))
	}
	return b
}

// sampleExamples draws n examples from pool: a random permutation prefix when
// the pool is large enough, with replacement otherwise.
func sampleExamples(rng *rand.Rand, pool []tasks.Example, n int) []tasks.Example {
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

// labelled keeps the examples with a known option answer (support/query
// batches need the answer for the answer-only loss).
func labelled(exs []tasks.Example) []tasks.Example {
	var out []tasks.Example
	for _, e := range exs {
		if e.Answer >= 0 && e.Answer < len(e.Options) {
			out = append(out, e)
		}
	}
	return out
}

// newRNG returns a deterministic generator for a (seed, stream) pair.
func newRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// stepEvent fills the fields every method reports on a Step.
func stepEvent(method, task, phase string, step, total int, lr float64, start time.Time) events.Event {
	return events.Event{Kind: events.Step, Method: method, Task: task, Phase: phase, Step: step, Total: total,
		LR: events.F(lr), MS: float64(time.Since(start).Microseconds()) / 1000}
}

// finite reports whether every value is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// scalarF reads a scalar tensor as float64 whatever its float dtype.
func scalarF(t *tensors.Tensor) float64 {
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

// warn publishes a Warning (e.g. a rejected non-finite step).
func warn(env *Env, method, task, msg string) {
	env.Publish(events.Event{Kind: events.Warning, Method: method, Task: task, Message: msg})
}

// checkEnv rejects an Env a method cannot run with.
func checkEnv(env *Env) error {
	if env == nil || env.Backend == nil || env.Model == nil {
		return fmt.Errorf("meta: env needs a backend and a model")
	}
	if env.Publish == nil {
		env.Publish = Discard
	}
	if env.LoRA.Rank <= 0 {
		return fmt.Errorf("meta: env.LoRA.Rank must be positive")
	}
	return nil
}
