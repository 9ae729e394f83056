package degaml

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// CollectedTask is one task's LoRA trajectory: the generator's training data.
type CollectedTask struct {
	Task    *tasks.Task
	Prompts []tasks.Example // the unlabeled prompt sources (train + val prompts)
	Emb     [][]float32     // prompt features (EmbedSpec), one row per prompt
	Steps   []int           // the step after which each checkpoint was taken
	Ckpts   [][]float32     // flattened checkpoints in CheckpointSet.Names order
	// FinalLoss is the answer-only loss of the last step and ValAcc the
	// final LoRA's validation accuracy (-1: no val split): sanity figures.
	FinalLoss float64
	ValAcc    float64
}

// CheckpointSet is the collected dataset of (task, prompts, checkpoints).
type CheckpointSet struct {
	LoRA   models.LoRAConfig
	Names  []string // sorted adapter tensor names
	Shapes [][]int
	Tasks  []*CollectedTask
}

// pickTasks takes up to n tasks round-robin over suites (in pool order), so a
// small budget still covers every in-domain suite. skip excludes tasks.
func pickTasks(pool []*tasks.Task, n int, skip map[*tasks.Task]bool) []*tasks.Task {
	bySuite := map[string][]*tasks.Task{}
	var order []string
	for _, t := range pool {
		if skip[t] || len(kit.Labelled(t.Splits.Train)) == 0 {
			continue
		}
		if _, ok := bySuite[t.Suite]; !ok {
			order = append(order, t.Suite)
		}
		bySuite[t.Suite] = append(bySuite[t.Suite], t)
	}
	var out []*tasks.Task
	for round := 0; len(out) < n; round++ {
		added := false
		for _, s := range order {
			if round < len(bySuite[s]) && len(out) < n {
				out = append(out, bySuite[s][round])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// collectCheckpoints trains one LoRA per task (a pre phase, then a lower-lr
// fine phase, answer-only loss on the train split) and keeps a checkpoint
// every CollectEvery steps after the warm-up. Every task starts from the SAME
// initialisation (A from CollectInitSeed, B = 0): LoRA factors are only
// defined up to an invertible r×r mixing (BA = BM·M⁻¹A), so trajectories from
// different inits live in different coordinates and averaging or regressing
// them would be meaningless. It then encodes each task's unlabeled prompts.
// A trajectory found in cache (nil: none) is reused, one collected is added.
func collectCheckpoints(ctx context.Context, r *dgRuntime, pool []*tasks.Task, o meta.DeGAMLOptions, spec EmbedSpec, method string, cache *Trajectories) (*CheckpointSet, error) {
	picked := pickTasks(pool, o.CollectTasks, nil)
	if len(picked) == 0 {
		return nil, fmt.Errorf("degaml: no in-domain task with labelled train examples to collect checkpoints from")
	}
	shapes := models.AdapterShapes(r.cfg, r.lora)
	set := &CheckpointSet{LoRA: r.lora, Names: r.adNames}
	for _, n := range r.adNames {
		set.Shapes = append(set.Shapes, shapes[n])
	}
	init := models.NewAdapter(r.cfg, r.lora, o.CollectInitSeed)
	total := o.CollectPreSteps + o.CollectFineSteps
	for ti, task := range picked {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// A task's trajectory depends on the task, not on the pool it was
		// picked from (seeds come from its name), so pools that share tasks
		// (the paper protocol's leave-one-suite-out pools) collect it once.
		tseed := o.Seed + int64(fnv32(task.Name))
		cacheKey := fmt.Sprintf("%+v|%s|%+v", r.lora, task.Name, collectKey(o))
		if memo := cache.get(cacheKey); memo != nil {
			ct := *memo
			ct.Task = task
			emb, err := r.EncodePrompts(ctx, ct.Prompts, spec, o.PromptMaxTokens)
			if err != nil {
				return nil, err
			}
			ct.Emb = emb
			set.Tasks = append(set.Tasks, &ct)
			r.env.Publish(ev0(method, task.Name, (ti+1)*total, len(picked)*total))
			continue
		}
		ct := &CollectedTask{Task: task, ValAcc: -1}
		rng := kit.NewRNG(tseed, 0xc011ec7)
		sup := kit.Labelled(task.Splits.Train)
		ad := init.Clone()
		checkpoint := func(done int) {
			ct.Steps = append(ct.Steps, done)
			ct.Ckpts = append(ct.Ckpts, flattenAdapter(r.adNames, ad))
		}
		_, err := train.Loop(ctx, r.loraStep, r.env.Model.Params, ad.Params, train.NewAdamState(ad.Params), train.LoopConfig{
			Steps: total, Method: method, Task: task.Name, Phase: "collect", Publish: r.env.Publish,
			Schedule: func(s int) float64 {
				if s >= o.CollectPreSteps {
					return o.CollectFineLR
				}
				return o.CollectPreLR
			},
			Batch: func(int) (*train.Batch, error) {
				return r.lmBatchOf(kit.SampleExamples(rng, sup, o.CollectBatch), true, 0), nil
			},
			OnStep: func(s int, res train.StepResult, ev *events.Event) error {
				// Step/Total count over all tasks: the pipeline turns them
				// into the stage's progress fraction.
				ev.Step, ev.Total, ev.Stage = ti*total+s+1, len(picked)*total, "collect"
				ct.FinalLoss = res.Loss
				if done := s + 1; done > o.CollectWarmup && ((done-o.CollectWarmup)%o.CollectEvery == 0 || done == total) {
					checkpoint(done)
				}
				return nil
			},
		})
		if err != nil {
			return nil, err
		}
		if len(ct.Ckpts) == 0 { // warm-up longer than the run: keep the last state
			checkpoint(total)
		}
		ct.Prompts = promptSubset(kit.Unlabeled(append(append([]tasks.Example(nil), task.Splits.Train...), task.Splits.Val...)), o.PromptPool, tseed)
		if val := kit.Labelled(task.Splits.Val); len(val) > 0 {
			// The collected LoRA's val accuracy: what the generator aims at.
			acc, _, _, err := meta.Evaluate(ctx, r.env, &meta.Adapted{Adapter: ad}, val)
			if err != nil {
				return nil, err
			}
			ct.ValAcc = acc
			r.env.Publish(events.Event{Kind: events.Step, Method: method, Task: task.Name, Stage: "collect", Phase: "collect-eval",
				Step: ti + 1, Total: len(picked), Accuracy: events.F(acc), Message: "val accuracy of the collected LoRA"})
		}
		emb, err := r.EncodePrompts(ctx, ct.Prompts, spec, o.PromptMaxTokens)
		if err != nil {
			return nil, err
		}
		ct.Emb = emb
		set.Tasks = append(set.Tasks, ct)
		cache.put(cacheKey, ct)
	}
	return set, nil
}

// Trajectories holds collected LoRA trajectories by LoRA shape, task and
// collection budget for ONE base model: pools that share tasks (the paper
// protocol's leave-one-suite-out pools) then collect each shared task once.
// The pipeline keeps one per workbench; a nil *Trajectories keeps nothing.
type Trajectories struct {
	mu sync.Mutex
	m  map[string]*CollectedTask
}

// NewTrajectories returns an empty cache.
func NewTrajectories() *Trajectories { return &Trajectories{m: map[string]*CollectedTask{}} }

func (c *Trajectories) get(key string) *CollectedTask {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

// put keeps ct without its prompt features (they depend on the EmbedSpec,
// and are recomputed on reuse).
func (c *Trajectories) put(key string, ct *CollectedTask) {
	if c == nil {
		return
	}
	keep := *ct
	keep.Emb = nil
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = &keep
}

// collectKey is what a collected trajectory depends on besides the task.
func collectKey(o meta.DeGAMLOptions) [11]float64 {
	return [11]float64{float64(o.CollectPreSteps), o.CollectPreLR, float64(o.CollectFineSteps), o.CollectFineLR,
		float64(o.CollectBatch), float64(o.CollectEvery), float64(o.CollectWarmup), float64(o.CollectInitSeed),
		float64(o.Seed), float64(o.PromptPool), 0}
}

// ev0 is the progress event of a trajectory taken from the cache.
func ev0(method, task string, step, total int) events.Event {
	ev := kit.StepEvent(method, task, "collect", step, total, 0, time.Now())
	ev.Stage = "collect"
	ev.Message = "trajectory reused from an earlier pool"
	return ev
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
