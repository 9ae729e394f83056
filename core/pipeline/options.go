package pipeline

import (
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/models"
)

// MethodOptions maps the configuration onto the methods' budgets; fields the
// config does not mention keep the methods' documented defaults.
func MethodOptions(cfg *config.Config) meta.Options {
	var o meta.Options
	m := cfg.Methods
	o.NoMeta = meta.LoRATrainOptions{Steps: m.NoMeta.Steps, LR: m.NoMeta.LR, Batch: m.NoMeta.Batch}
	o.Union = meta.LoRATrainOptions{Steps: m.Union.Steps, LR: m.Union.LR, Batch: m.Union.Batch}
	o.MAML = meta.MAMLOptions{MetaSteps: m.MAML.MetaSteps, TasksPerStep: m.MAML.TasksPerStep, InnerSteps: m.MAML.InnerSteps,
		InnerLR: m.MAML.InnerLR, OuterLR: m.MAML.OuterLR, Support: m.MAML.Support, Query: m.MAML.Query,
		FirstOrder: m.MAML.FirstOrder, InnerOpt: m.MAML.InnerOpt}
	o.ABMLL = meta.ABMLLOptions{MetaSteps: m.ABMLL.MetaSteps, TasksPerStep: m.ABMLL.TasksPerStep, InnerSteps: m.ABMLL.InnerSteps,
		InnerLR: m.ABMLL.InnerLR, OuterLR: m.ABMLL.OuterLR, TaskFidelity: m.ABMLL.TaskFidelity, GlobalReg: m.ABMLL.GlobalReg,
		Predict: m.ABMLL.Predict, Samples: m.ABMLL.Samples, Sampling: m.ABMLL.Sampling}
	d := m.DeGAML
	o.DeGAML = meta.DeGAMLOptions{CollectTasks: d.CollectTasks, CollectPreSteps: d.CollectPreSteps, CollectPreLR: d.CollectPreLR,
		CollectFineSteps: d.CollectFineSteps, CollectFineLR: d.CollectFineLR, PromptBatch: d.PromptBatch,
		GenSteps: d.GenSteps, GenLR: d.GenLR, PolicyTasks: d.PolicyTasks, PolicyIterations: d.PolicyIterations,
		PolicyHypotheses: d.PolicyHypotheses, AdaptTopK: d.AdaptTopK, GenDecoder: d.GenDecoder, EmbedKind: d.Embed, MixMode: d.MixMode}
	// [adapt] inner_steps is the test-time step budget of every method that
	// adapts by gradient steps, the same for all of them (a from-scratch LoRA
	// included), so that no baseline sits at the ceiling and the comparison
	// is fair; [methods.nometa-lora] steps may still override it.
	if s := cfg.Adapt.InnerSteps; s > 0 {
		if o.NoMeta.Steps == 0 {
			o.NoMeta.Steps = s
		}
		o.MAML.AdaptSteps = s
		o.ABMLL.AdaptSteps = s
	}
	o.DeGAML.GenSelect = cfg.Methods.DeGAML.GenSelect
	return o
}

// withKnobs applies a run's knobs (the TUI's form) on top of the options.
func withKnobs(o meta.Options, k api.Knobs) meta.Options {
	if k.InnerSteps > 0 {
		o.NoMeta.Steps = k.InnerSteps
		o.MAML.AdaptSteps = k.InnerSteps
		o.ABMLL.AdaptSteps = k.InnerSteps
	}
	if k.LR > 0 {
		o.NoMeta.LR = k.LR
	}
	return o
}

// LoRAConfig is the adapter shape every method shares.
func LoRAConfig(cfg *config.Config) models.LoRAConfig {
	return models.LoRAConfig{Rank: cfg.LoRA.Rank, Alpha: cfg.LoRA.Alpha, RSLoRA: cfg.LoRA.RSLoRA, Targets: cfg.LoRA.Targets}
}

// applied is the adaptation budget method really gets under options o (the
// config with the run's knobs applied): gradient steps on the task and their
// learning rate, 0 for methods that take none (base, union-lora, degaml-gen;
// degaml's policy picks per task and reports it in its chosen hypothesis).
// A 0 in o is the method's documented default (meta.Options.Filled).
func applied(method string, o meta.Options) (steps int, lr float64) {
	f := o.Filled()
	switch api.Method(method) {
	case api.MethodNoMetaLoRA:
		return f.NoMeta.Steps, f.NoMeta.LR
	case api.MethodMAMLEnLLM:
		return f.MAML.AdaptSteps, f.MAML.InnerLR
	case api.MethodABMLL:
		return f.ABMLL.AdaptSteps, f.ABMLL.InnerLR
	}
	return 0, 0
}

// adaptInfo is the AdaptStarted payload of one RunTask call.
func adaptInfo(method, task, suite string, seed int64, o meta.Options, rank, support int) *events.AdaptInfo {
	steps, lr := applied(method, o)
	return &events.AdaptInfo{Suite: suite, Task: task, Method: method, Seed: seed,
		InnerSteps: steps, LR: lr, Rank: rank, Support: support}
}
