package meta

import (
	"context"
	"fmt"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// The two plain-LoRA baselines. Both train with AdamW (clip 1) on the
// answer-only loss, reusing DeGAML's LoRA trainer (families.go) so every
// method's LoRA step is the same graph.

// adapterArtifact is a single shared adapter (union-lora), stored as PEFT.
type adapterArtifact struct{ Adapter *models.Adapter }

func (a *adapterArtifact) Save(dir string) error { return a.Adapter.SavePEFT(dir) }

// valEvery is how many steps pass between the held-out (val) loss/accuracy
// reports of a LoRA run; the last step always reports.
func valEvery(steps int) int { return max(1, steps/10) }

// trainLoRA runs opts.Steps AdamW steps of an adapter on examples and
// publishes one Step per optimizer step. val (may be empty) gives the
// QueryLoss / Accuracy of the live display.
func trainLoRA(ctx context.Context, env *Env, method, task, phase string, a *models.Adapter, examples, val []tasks.Example, opts LoRATrainOptions, seed int64) (*models.Adapter, error) {
	rt, err := newDGRuntime(env)
	if err != nil {
		return nil, err
	}
	tr := rt.newLoRATrainer(a)
	rng := newRNG(seed, 0x6c6f7261)
	val = val[:min(len(val), heldQuery)]
	var valB lmBatch
	if len(val) > 0 {
		valB = encodeBatch(env, val, true)
	}
	lr := opts.LR
	for s := 1; s <= opts.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		b := encodeBatch(env, sampleExamples(rng, examples, opts.Batch), true)
		loss, err := tr.Step(b, lr, opts.WeightDecay)
		if err != nil {
			return nil, fmt.Errorf("meta: %s step %d: %w", method, s, err)
		}
		e := stepEvent(method, task, phase, s, opts.Steps, lr, start)
		if !finite(loss) {
			lr /= 2 // the trainer rejected the step; back off
			warn(env, method, task, fmt.Sprintf("step %d: non-finite loss, step rejected, lr → %g", s, lr))
		} else {
			e.SupportLoss = events.F(loss)
		}
		if len(val) > 0 && (s%valEvery(opts.Steps) == 0 || s == opts.Steps) {
			cur := tr.Adapter()
			if q, err := rt.LMLoss(cur, nil, valB); err == nil && finite(q) {
				e.QueryLoss = events.F(q)
			}
			if acc, ok := quickAccuracy(ctx, env, cur, val); ok {
				e.Accuracy = events.F(acc)
			}
		}
		e.MS = float64(time.Since(start).Microseconds()) / 1000
		env.Publish(e)
	}
	return tr.Adapter(), nil
}

// noMetaLoRA trains a fresh LoRA on the task's own train split (no sharing).
type noMetaLoRA struct{ opts LoRATrainOptions }

func (*noMetaLoRA) Name() string { return NoMetaLoRA }

func (*noMetaLoRA) MetaTrain(context.Context, *Env, []*tasks.Task) (Artifact, error) { return nil, nil }

func (*noMetaLoRA) LoadArtifact(string) (Artifact, error) { return nil, nil }

func (m *noMetaLoRA) Adapt(ctx context.Context, env *Env, _ Artifact, task *tasks.Task, seed int64) (*Adapted, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	support := labelled(task.Splits.Train)
	init := models.NewAdapter(env.Model.Config, env.LoRA, seed+m.opts.Seed)
	if len(support) == 0 {
		warn(env, NoMetaLoRA, task.Name, "no labelled train examples; the adapter stays at its (zero-effect) init")
		return &Adapted{Adapter: init}, nil
	}
	ad, err := trainLoRA(ctx, env, NoMetaLoRA, task.Name, "inner", init, support, labelled(task.Splits.Val), m.opts, seed)
	if err != nil {
		return nil, err
	}
	return &Adapted{Adapter: ad}, nil
}

// unionLoRA trains one LoRA on the union of the pool's train splits; Adapt
// returns it unchanged.
type unionLoRA struct{ opts LoRATrainOptions }

func (*unionLoRA) Name() string { return UnionLoRA }

func (m *unionLoRA) MetaTrain(ctx context.Context, env *Env, pool []*tasks.Task) (Artifact, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	var union, val []tasks.Example
	for _, t := range pool {
		union = append(union, labelled(t.Splits.Train)...)
		if v := labelled(t.Splits.Val); len(v) > 0 {
			val = append(val, v[0]) // one per task: a small mixed held-out batch
		}
	}
	if len(union) == 0 {
		return nil, fmt.Errorf("meta: %s: the pool has no labelled train examples", UnionLoRA)
	}
	init := models.NewAdapter(env.Model.Config, env.LoRA, 1+m.opts.Seed)
	rng := newRNG(11, 0x756e696f)
	val = shuffledCopy(rng, val)
	ad, err := trainLoRA(ctx, env, UnionLoRA, "", "train", init, union, val, m.opts, 11)
	if err != nil {
		return nil, err
	}
	return &adapterArtifact{Adapter: ad}, nil
}

func (*unionLoRA) LoadArtifact(dir string) (Artifact, error) {
	a, err := models.LoadPEFT(dir)
	if err != nil {
		return nil, err
	}
	return &adapterArtifact{Adapter: a}, nil
}

func (*unionLoRA) Adapt(ctx context.Context, env *Env, art Artifact, task *tasks.Task, _ int64) (*Adapted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, ok := art.(*adapterArtifact)
	if !ok || a == nil {
		return nil, fmt.Errorf("meta: %s needs its meta-trained adapter (got %T)", UnionLoRA, art)
	}
	env.Publish(events.Event{Kind: events.Log, Method: UnionLoRA, Task: task.Name, Message: "shared union adapter, no per-task adaptation"})
	return &Adapted{Adapter: a.Adapter.Clone()}, nil
}
