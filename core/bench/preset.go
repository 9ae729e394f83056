package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/meta"
)

// Preset is a named bench budget.
type Preset struct {
	Name  string
	Seeds int
	// Apply sets the pipeline budgets on a copy of the config.
	Apply func(c *config.Config)
	// Options are the method budgets the preset wants. The pipeline derives
	// its meta.Options from the config alone (pipeline.MethodOptions) and
	// has no hook to take these yet; they are part of the results key so a
	// bench is never resumed across different budgets.
	Options meta.Options
}

// Presets:
//
//   - quick: meant to finish from an empty work directory, pipeline stages
//     included, in about 15–20 min on 2 CPU cores (BENCHMARKS.md). The base
//     model is pretrained as the TUI's default (600 steps: fewer do not
//     teach nano the question-answering skill, SCIENCE.md), the meta-training
//     pool and method budgets are smaller, and three seeds give (wide)
//     intervals.
//   - paper: the paper's protocol at workbench scale: 5 seeds and budgets
//     at least the configured ones (pretraining ≥ 1200 steps on ≥ 48
//     instances per suite); method budgets doubled when the pipeline can
//     take them.
var presets = map[string]Preset{
	"quick": {
		Name:  "quick",
		Seeds: 3,
		Apply: func(c *config.Config) {
			// The configured base model (the TUI's, so a bench after the
			// first start reuses it) and test-time budget; a smaller pool.
			c.Pipeline.TrainInstances = min(c.Pipeline.TrainInstances, 8)
		},
		Options: meta.Options{
			Union:  meta.LoRATrainOptions{Steps: 120},
			MAML:   meta.MAMLOptions{MetaSteps: 30},
			ABMLL:  meta.ABMLLOptions{MetaSteps: 30},
			DeGAML: meta.DeGAMLOptions{CollectTasks: 24, GenSteps: 250, PolicyTasks: 3, PolicyHypotheses: 8},
		},
	},
	"paper": {
		Name:  "paper",
		Seeds: 5,
		Apply: func(c *config.Config) {
			c.Pipeline.PretrainSteps = max(c.Pipeline.PretrainSteps, 1200)
			c.Pipeline.TrainInstances = max(c.Pipeline.TrainInstances, 48)
		},
		Options: meta.Options{
			Union:  meta.LoRATrainOptions{Steps: 600},
			MAML:   meta.MAMLOptions{MetaSteps: 120},
			ABMLL:  meta.ABMLLOptions{MetaSteps: 120},
			DeGAML: meta.DeGAMLOptions{CollectTasks: 24, GenSteps: 800, PolicyTasks: 8, PolicyIterations: 3, PolicyHypotheses: 20},
		},
	},
}

// MergeOptions returns base with every non-zero field of over (recursively
// through nested structs) replacing base's: how a preset's method budgets
// go on top of the configured ones, zero still meaning "keep".
func MergeOptions(base, over meta.Options) meta.Options {
	mergeValue(reflect.ValueOf(&base).Elem(), reflect.ValueOf(over))
	return base
}

func mergeValue(dst, src reflect.Value) {
	if src.Kind() == reflect.Struct {
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				mergeValue(dst.Field(i), src.Field(i))
			}
		}
		return
	}
	if !src.IsZero() {
		dst.Set(src)
	}
}

// PresetNames lists the presets.
func PresetNames() []string { return []string{"quick", "paper"} }

// ApplyPreset returns a copy of cfg with the preset's pipeline budgets, and
// the preset.
func ApplyPreset(name string, cfg *config.Config) (*config.Config, Preset, error) {
	p, ok := presets[name]
	if !ok {
		return nil, Preset{}, fmt.Errorf("unknown bench preset %q (want quick or paper)", name)
	}
	c := *cfg
	c.LoRA.Targets = append([]string(nil), cfg.LoRA.Targets...)
	c.Bench.Methods = append([]string(nil), cfg.Bench.Methods...)
	p.Apply(&c)
	c.Bench.Preset = name
	return &c, p, nil
}

// Key names a results file: a hash of everything that changes what a cell
// measures (model, LoRA shape, pipeline and adaptation budgets, method
// budgets), so changing a budget starts a fresh file instead of mixing
// results, while seeds, methods and suites can change freely.
func Key(preset string, cfg *config.Config, opts meta.Options) string {
	return KeyWithTasks(preset, cfg, opts, "")
}

// KeyWithTasks is Key for a bench over a file task set, identified by
// taskSet (pipeline.Workbench.TaskSetKey): other files, or edited ones,
// start a fresh results file.
func KeyWithTasks(preset string, cfg *config.Config, opts meta.Options, taskSet string) string {
	pl := cfg.Pipeline
	pl.Workdir = "" // where results live does not change them
	b, _ := json.Marshal(struct {
		Preset   string
		Model    config.Model
		LoRA     config.LoRA
		Pipeline config.Pipeline
		Adapt    config.Adapt
		Options  meta.Options
		Tasks    string `json:",omitempty"` // "" keeps the built-in suites' keys as they were
	}{preset, cfg.Model, cfg.LoRA, pl, cfg.Adapt, opts, taskSet})
	h := sha256.Sum256(b)
	return preset + "-" + hex.EncodeToString(h[:])[:12]
}
