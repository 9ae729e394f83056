// Package meta is the contract of the methods the workbench compares (the
// DeGAML generalization and adaptation modules and the paper's baselines):
// the Method interface every row of a results table runs behind, their
// options and registry, and Evaluate. The methods live in subpackages that
// register themselves (core/meta/lora, maml, abmll, degaml; core/meta/methods
// imports them all).
package meta

import (
	"context"
	"fmt"
	"github.com/degaml/workbench/core/train"

	"github.com/gomlx/compute"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// Method names as the registry keys them (core/api names them; the CLI, the
// TUI and bench tables rely on them).
const (
	Base       = string(api.MethodBase)
	NoMetaLoRA = string(api.MethodNoMetaLoRA)
	UnionLoRA  = string(api.MethodUnionLoRA)
	MAMLEnLLM  = string(api.MethodMAMLEnLLM)
	ABMLL      = string(api.MethodABMLL)
	DeGAMLGen  = string(api.MethodDeGAMLGen)
	DeGAML     = string(api.MethodDeGAML)
)

// Env is what a method runs against.
type Env struct {
	Backend compute.Backend
	Model   *models.Model     // the frozen base model
	LoRA    models.LoRAConfig // adapter shape shared by every method
	// Publish receives live events; the method fills Method/Task/Phase/Step and
	// the losses, the caller fills Run. Never nil (use Discard).
	Publish func(events.Event)
}

// Discard is a Publish that drops events.
func Discard(events.Event) {}

// Artifact is what a method learned across tasks during meta-training.
type Artifact interface {
	Save(dir string) error
}

// Method is one row of the results table.
type Method interface {
	Name() string
	// MetaTrain learns what the method shares across tasks from the in-domain
	// pool (train/val splits only). Methods with nothing to share return nil.
	MetaTrain(ctx context.Context, env *Env, pool []*tasks.Task) (Artifact, error)
	// LoadArtifact reads what MetaTrain saved.
	LoadArtifact(dir string) (Artifact, error)
	// Adapt adapts to one task using its train split as labelled support and
	// its val split for selection; it may read the test split's prompts
	// unlabeled, never their answers.
	Adapt(ctx context.Context, env *Env, art Artifact, task *tasks.Task, seed int64) (*Adapted, error)
}

// Adapted is a method's result for one task: what to run the model with.
type Adapted struct {
	Adapter  *models.Adapter   // nil: the base model
	Ensemble []*models.Adapter // TTS: several adapters combined by Vote
	Vote     string            // "majority" | "maxconf"
	// Noise, when set, holds per Ensemble member the output noise of a stochastic scoring pass (abmll's
	// local-reparameterization MC predictive: every member is the posterior mean plus its own noise draw).
	Noise     []*train.OutputNoise
	SlotDelta []float32 // SLOT δ added to the final hidden state; nil if none
	Chosen    *events.HypothesisInfo
}

// Check rejects an Env a method cannot run with (a nil Publish becomes
// Discard).
func (env *Env) Check() error {
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
