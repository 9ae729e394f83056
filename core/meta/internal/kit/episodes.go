package kit

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
	"github.com/gomlx/gomlx/core/tensors"
)

// ParamsOf names tensors (in names order) as Params.
func ParamsOf(names []string, ts []*tensors.Tensor) models.Params {
	p := make(models.Params, len(names))
	for i, n := range names {
		p[n] = ts[i]
	}
	return p
}

// MaxSupport caps the test-time support set (the task's labelled train
// split) so that one batch holds it.
const MaxSupport = 32

// HeldQuery is the val batch whose loss and accuracy every inner step reports.
const HeldQuery = 16

// MetaPool keeps the tasks that can give a support and a query batch.
func MetaPool(pool []*tasks.Task) []*tasks.Task {
	var out []*tasks.Task
	for _, t := range pool {
		if len(Labelled(t.Splits.Train)) > 0 && (len(Labelled(t.Splits.Val)) > 0 || len(Labelled(t.Splits.Train)) > 1) {
			out = append(out, t)
		}
	}
	return out
}

// SupportQuery draws a task's support batch from its train split and its query
// batch from its val split (from the train split when val is empty).
func SupportQuery(env *meta.Env, r *rand.Rand, t *tasks.Task, ns, nq int) (*train.Batch, *train.Batch) {
	tr, val := Labelled(t.Splits.Train), Labelled(t.Splits.Val)
	if len(val) == 0 {
		val = tr
	}
	return EncodeBatch(env, SampleExamples(r, tr, ns), true), EncodeBatch(env, SampleExamples(r, val, nq), true)
}

// MetaBatch samples nt distinct tasks of the pool and one support and one
// query batch from each; T is the longest batch, the length all are padded
// to so one compiled meta-step serves every task.
func MetaBatch(env *meta.Env, rng *rand.Rand, pool []*tasks.Task, nt, support, query int) (sb, qb []*train.Batch, T int) {
	for _, ti := range rng.Perm(len(pool))[:nt] {
		s, q := SupportQuery(env, rng, pool[ti], support, query)
		sb, qb = append(sb, s), append(qb, q)
		T = max(T, s.T, q.T)
	}
	return sb, qb, T
}

// MetaTrainStart checks the environment, keeps the pool's tasks that have
// labelled examples, and returns the shared adapter initialization the
// bi-level methods (MAML-en-LLM, ABMLL) start their meta-training from.
func MetaTrainStart(env *meta.Env, pool []*tasks.Task, method string) ([]*tasks.Task, *models.Adapter, error) {
	if err := env.Check(); err != nil {
		return nil, nil, err
	}
	pool = MetaPool(pool)
	if len(pool) == 0 {
		return nil, nil, fmt.Errorf("meta: %s: no task in the pool has Labelled train examples", method)
	}
	return pool, models.NewAdapter(env.Model.Config, env.LoRA, 1), nil
}

// AdaptBatches builds the test-time batches of the bi-level methods: a sample
// of the labelled support set, and a held query batch from the validation
// split (the support set when there is none), padded to one length; valEx are
// the query examples, for the per-step accuracy.
func AdaptBatches(env *meta.Env, task *tasks.Task, support []tasks.Example, seed int64) (sb, qb *train.Batch, valEx []tasks.Example) {
	rng := NewRNG(seed, 0x61646170)
	support = SampleExamples(rng, support, min(len(support), MaxSupport))
	valEx = Labelled(task.Splits.Val)
	if len(valEx) == 0 {
		valEx = support
	}
	valEx = valEx[:min(len(valEx), HeldQuery)]
	sb, qb = EncodeBatch(env, support, true), EncodeBatch(env, valEx, true)
	T := max(sb.T, qb.T)
	return sb.PadTo(T), qb.PadTo(T), valEx
}

// QuickAccuracy is the accuracy of an adapter on a few examples, for live
// Step events; it reports false when there is nothing cheap to score.
func QuickAccuracy(ctx context.Context, env *meta.Env, ad *models.Adapter, exs []tasks.Example) (float64, bool) {
	if len(exs) == 0 || len(exs) > HeldQuery {
		return 0, false
	}
	acc, _, _, err := meta.Evaluate(ctx, env, &meta.Adapted{Adapter: ad}, exs)
	return acc, err == nil
}
