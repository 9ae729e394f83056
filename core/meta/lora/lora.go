package lora

import (
	"context"
	"fmt"
	"maps"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// The two plain-LoRA baselines. Both train with AdamW (clip 1) on the
// answer-only loss with core/train's LoRA step and loop. Cost on nano (batch
// 8, measured at load average ≈17 on the 2-core dev box): ≈0.3 s per step on
// a task's own split (nometa: 40 steps ≈ 11 s), ≈1.2 s per step on the
// longer union mix (union: 200 steps ≈ 4 min).

// adapterArtifact is a single shared adapter (union-lora), stored as PEFT.
type adapterArtifact struct{ Adapter *models.Adapter }

func (a *adapterArtifact) Save(dir string) error { return a.Adapter.SavePEFT(dir) }

// valEvery is how many steps pass between the held-out (val) loss/accuracy
// reports of a LoRA run; the last step always reports.
func valEvery(steps int) int { return max(1, steps/10) }

// trainLoRA runs opts.Steps AdamW steps (core/train's LoRA step and Loop:
// clipped gradients, NaN/Inf steps skipped with the lr halved) of an adapter
// on examples, publishing one Step per step. val (may be empty) gives the
// QueryLoss / Accuracy of the live display every valEvery steps (the loop's
// eval hook).
func trainLoRA(ctx context.Context, env *meta.Env, method, task, phase string, a *models.Adapter, examples, val []tasks.Example, opts meta.LoRATrainOptions, seed int64) (*models.Adapter, error) {
	step, err := train.NewLoRAStep(env.Backend, env.Model.Config, a.Config, train.DefaultAdam())
	if err != nil {
		return nil, err
	}
	ad := a.Clone()
	rng := kit.NewRNG(seed, 0x6c6f7261)
	val = val[:min(len(val), kit.HeldQuery)]
	loop := train.LoopConfig{Steps: opts.Steps, LR: opts.LR, WeightDecay: opts.WeightDecay,
		Method: method, Task: task, Phase: phase, Publish: env.Publish,
		Batch: func(int) (*train.Batch, error) {
			return train.EncodeExamples(env.Model.Tokenizer, env.Model.Config, kit.SampleExamples(rng, examples, opts.Batch), true, 0, train.DefaultBucket)
		},
	}
	if len(val) > 0 {
		loss, err := train.NewLoss(env.Backend, env.Model.Config, a.Config)
		if err != nil {
			return nil, err
		}
		valB := kit.EncodeBatch(env, val, true)
		loop.EvalEvery = valEvery(opts.Steps)
		loop.OnEval = func(_ int, e *events.Event) error {
			cur := &models.Adapter{Config: ad.Config, Params: maps.Clone(ad.Params)}
			if l, err := loss.Of(env.Model.Params, cur, nil, valB); err == nil && kit.Finite(l) {
				e.QueryLoss = events.F(l)
			}
			if acc, ok := kit.QuickAccuracy(ctx, env, cur, val); ok {
				e.Accuracy = events.F(acc)
			}
			return nil
		}
	}
	if _, err := train.Loop(ctx, step, env.Model.Params, ad.Params, train.NewAdamState(ad.Params), loop); err != nil {
		return nil, fmt.Errorf("meta: %s: %w", method, err)
	}
	return ad, nil
}

// noMetaLoRA trains a fresh LoRA on the task's own train split (no sharing).
type noMetaLoRA struct{ opts meta.LoRATrainOptions }

func (*noMetaLoRA) Name() string { return meta.NoMetaLoRA }

func (*noMetaLoRA) MetaTrain(context.Context, *meta.Env, []*tasks.Task) (meta.Artifact, error) {
	return nil, nil
}

func (*noMetaLoRA) LoadArtifact(string) (meta.Artifact, error) { return nil, nil }

func (m *noMetaLoRA) Adapt(ctx context.Context, env *meta.Env, _ meta.Artifact, task *tasks.Task, seed int64) (*meta.Adapted, error) {
	if err := env.Check(); err != nil {
		return nil, err
	}
	support := kit.Labelled(task.Splits.Train)
	init := models.NewAdapter(env.Model.Config, env.LoRA, seed+m.opts.Seed)
	if len(support) == 0 {
		kit.Warn(env, meta.NoMetaLoRA, task.Name, "no labelled train examples; the adapter stays at its (zero-effect) init")
		return &meta.Adapted{Adapter: init}, nil
	}
	ad, err := trainLoRA(ctx, env, meta.NoMetaLoRA, task.Name, "inner", init, support, kit.Labelled(task.Splits.Val), m.opts, seed)
	if err != nil {
		return nil, err
	}
	return &meta.Adapted{Adapter: ad}, nil
}

// unionLoRA trains one LoRA on the union of the pool's train splits; Adapt
// returns it unchanged.
type unionLoRA struct{ opts meta.LoRATrainOptions }

func (*unionLoRA) Name() string { return meta.UnionLoRA }

func (m *unionLoRA) MetaTrain(ctx context.Context, env *meta.Env, pool []*tasks.Task) (meta.Artifact, error) {
	if err := env.Check(); err != nil {
		return nil, err
	}
	var union, val []tasks.Example
	for _, t := range pool {
		union = append(union, kit.Labelled(t.Splits.Train)...)
		if v := kit.Labelled(t.Splits.Val); len(v) > 0 {
			val = append(val, v[0]) // one per task: a small mixed held-out batch
		}
	}
	if len(union) == 0 {
		return nil, fmt.Errorf("meta: %s: the pool has no labelled train examples", meta.UnionLoRA)
	}
	init := models.NewAdapter(env.Model.Config, env.LoRA, 1+m.opts.Seed)
	rng := kit.NewRNG(11, 0x756e696f)
	val = kit.ShuffledCopy(rng, val)
	ad, err := trainLoRA(ctx, env, meta.UnionLoRA, "", "train", init, union, val, m.opts, 11)
	if err != nil {
		return nil, err
	}
	return &adapterArtifact{Adapter: ad}, nil
}

func (*unionLoRA) LoadArtifact(dir string) (meta.Artifact, error) {
	a, err := models.LoadPEFT(dir)
	if err != nil {
		return nil, err
	}
	return &adapterArtifact{Adapter: a}, nil
}

func (*unionLoRA) Adapt(ctx context.Context, env *meta.Env, art meta.Artifact, task *tasks.Task, _ int64) (*meta.Adapted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, ok := art.(*adapterArtifact)
	if !ok || a == nil {
		return nil, fmt.Errorf("meta: %s needs its meta-trained adapter (got %T)", meta.UnionLoRA, art)
	}
	env.Publish(events.Event{Kind: events.Log, Method: meta.UnionLoRA, Task: task.Name, Message: "shared union adapter, no per-task adaptation"})
	return &meta.Adapted{Adapter: a.Adapter.Clone()}, nil
}

func init() {
	meta.Register(meta.NoMetaLoRA, func(o meta.Options) (meta.Method, error) { return &noMetaLoRA{opts: o.NoMeta}, nil })
	meta.Register(meta.UnionLoRA, func(o meta.Options) (meta.Method, error) { return &unionLoRA{opts: o.Union}, nil })
}
