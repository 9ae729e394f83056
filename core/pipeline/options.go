package pipeline

import (
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/models"
)

// MethodOptions maps the configuration onto the methods' budgets; fields the
// config does not mention keep the methods' documented defaults.
func MethodOptions(cfg *config.Config) meta.Options {
	var o meta.Options
	if s := cfg.Adapt.InnerSteps; s > 0 {
		o.NoMeta.Steps = s * 5 // a from-scratch LoRA needs more steps than a meta-learned init
		o.MAML.AdaptSteps = s
	}
	return o
}

// withKnobs applies a run's knobs (the TUI's form) on top of the options.
func withKnobs(o meta.Options, k api.Knobs) meta.Options {
	if k.InnerSteps > 0 {
		o.NoMeta.Steps = k.InnerSteps
		o.MAML.AdaptSteps = k.InnerSteps
		o.ABMLL.InnerSteps = k.InnerSteps
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
