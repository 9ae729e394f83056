package meta

import (
	"fmt"
	"sort"
	"sync"

	"github.com/degaml/workbench/core/api"
)

// Options holds every method's budget. The lead maps workbench.toml
// [methods.*] onto it; a zero (or negative) field means "use the documented
// default" (DefaultOptions), so a partially filled struct is always usable.
// Booleans default to false. Wall times of the defaults on nano are in the
// method files' comments.
type Options struct {
	NoMeta LoRATrainOptions // nometa-lora: a LoRA trained on the task's own train split
	Union  LoRATrainOptions // union-lora: one LoRA trained on the union of the pool's train splits
	MAML   MAMLOptions      // maml-en-llm
	ABMLL  ABMLLOptions     // abmll
	DeGAML DeGAMLOptions    // degaml-gen / degaml (defined in degaml_options.go)
}

// LoRATrainOptions is a plain supervised LoRA run (answer-only loss, AdamW).
type LoRATrainOptions struct {
	Steps       int     // optimizer steps; default 40 (nometa) / 200 (union)
	LR          float64 // default 2e-3: nano/micro models are trained from scratch and need a large step
	Batch       int     // examples per step; default 8
	WeightDecay float64 // AdamW decoupled decay; default 0
	Seed        int64   // adapter init seed offset; the per-task seed is added
}

// MAMLOptions configures maml-en-llm (see core/meta/maml for the exact update rule).
type MAMLOptions struct {
	MetaSteps    int     // outer (meta) updates; default 40
	TasksPerStep int     // tasks averaged per meta-gradient; default 4
	InnerSteps   int     // inner steps in meta-training; default 2
	AdaptSteps   int     // inner steps at test time (Adapt); default InnerSteps
	InnerLR      float64 // inner step size; default 3e-3 with "adam-shared", 0.1 with "sgd"
	OuterLR      float64 // outer Adam lr; default 3e-3
	Support      int     // support batch size (examples); default 4
	Query        int     // query batch size (examples); default 4
	FirstOrder   bool    // stop the gradient through the inner gradients (FOMAML); default false
	// InnerOpt is "adam-shared" (default: the inner step is Adam-normalized
	// with the moments shared with the outer optimizer, MAML-en-LLM's trick)
	// or "sgd" (plain MAML inner step).
	InnerOpt string
	ClipNorm float64 // global-norm clip of the meta-gradient; default 1
}

// ABMLLOptions configures abmll (see core/meta/abmll for the objective).
type ABMLLOptions struct {
	MetaSteps    int     // default 40
	TasksPerStep int     // default 4
	InnerSteps   int     // posterior refinement steps from θ in meta-training; default 2
	AdaptSteps   int     // refinement steps from θ at test time (Adapt); default InnerSteps
	InnerLR      float64 // SGD step of the refinement; default 0.1
	OuterLR      float64 // Adam lr on θ; default 3e-3
	Support      int     // default 4
	Query        int     // default 4
	// TaskFidelity (β) scales the task KL(q(ΔW|φ_i) ‖ p(ΔW|θ)): how faithful
	// a task's posterior stays to the global prior. GlobalReg (γ) scales the
	// global regularisation KL(N(μ_θ, σ_θ²) ‖ N(0, PriorStd²)). Both KLs sum
	// over every ΔW element (~10^5 on nano) while the NLL is a per-token
	// mean, hence the small defaults 1e-5 and 1e-6 (see core/meta/abmll).
	TaskFidelity float64
	GlobalReg    float64
	// SigmaOffset is c in σ = B_σA_σ + c (the std of every ΔW element
	// before meta-training); default 1e-2. PriorStd is σ₀ of the hyperprior
	// on ΔW; default SigmaOffset (the initial θ then has zero global KL).
	SigmaOffset, PriorStd float64
	SecondOrder           bool   // differentiate through the refinement steps; default false (first-order)
	Predict               string // "mc" (default: Monte-Carlo predictive, the average of Samples ΔW draws) or "mean" (posterior mean)
	Samples               int    // MC draws; default 4
	// Sampling is how a draw of ΔW reaches the model: "dense" (ΔW = μ + σ⊙ε
	// formed per module), "local" (local reparameterization: output noise,
	// no [out,in] tensor; see core/meta/abmll/local.go) or "auto" (default:
	// local when the dense ΔW of all targeted modules exceeds 16 M elements).
	Sampling string
	ClipNorm float64
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	var o Options
	o.fill()
	return o
}

// Filled returns o with every zero field replaced by its default: the budget a
// method built by New(name, o) really runs with (some defaults depend on other
// fields, e.g. MAML's inner learning rate on its inner optimizer).
func (o Options) Filled() Options {
	o.fill()
	return o
}

func orInt(p *int, d int) {
	if *p <= 0 {
		*p = d
	}
}

func orFloat(p *float64, d float64) {
	if *p <= 0 {
		*p = d
	}
}

// fill replaces zero fields by their defaults.
func (o *Options) fill() {
	fillLoRA := func(l *LoRATrainOptions, steps int) {
		orInt(&l.Steps, steps)
		orFloat(&l.LR, 2e-3)
		orInt(&l.Batch, 8)
	}
	fillLoRA(&o.NoMeta, 40)
	fillLoRA(&o.Union, 200)

	m := &o.MAML
	orInt(&m.MetaSteps, 40)
	orInt(&m.TasksPerStep, 4)
	orInt(&m.InnerSteps, 2)
	orInt(&m.AdaptSteps, m.InnerSteps)
	if m.InnerOpt == "" {
		m.InnerOpt = "adam-shared"
	}
	if m.InnerOpt == "sgd" {
		orFloat(&m.InnerLR, 0.1)
	} else {
		orFloat(&m.InnerLR, 3e-3)
	}
	orFloat(&m.OuterLR, 3e-3)
	orInt(&m.Support, 4)
	orInt(&m.Query, 4)
	orFloat(&m.ClipNorm, 1)

	a := &o.ABMLL
	orInt(&a.MetaSteps, 40)
	orInt(&a.TasksPerStep, 4)
	orInt(&a.InnerSteps, 2)
	orInt(&a.AdaptSteps, a.InnerSteps)
	orFloat(&a.InnerLR, 0.1)
	orFloat(&a.OuterLR, 3e-3)
	orInt(&a.Support, 4)
	orInt(&a.Query, 4)
	orFloat(&a.TaskFidelity, 1e-5)
	orFloat(&a.GlobalReg, 1e-6)
	orFloat(&a.SigmaOffset, 1e-2)
	orFloat(&a.PriorStd, a.SigmaOffset)
	if a.Predict == "" {
		a.Predict = "mc"
	}
	orInt(&a.Samples, 4)
	if a.Sampling == "" {
		a.Sampling = "auto"
	}
	orFloat(&a.ClipNorm, 1)
}

func (o *Options) validate() error {
	switch o.MAML.InnerOpt {
	case "adam-shared", "sgd":
	default:
		return fmt.Errorf("meta: maml inner_opt %q (want adam-shared or sgd)", o.MAML.InnerOpt)
	}
	if err := o.DeGAML.WithDefaults().Validate(); err != nil {
		return err
	}
	switch o.ABMLL.Predict {
	case "mean", "mc":
	default:
		return fmt.Errorf("meta: abmll predict %q (want mean or mc)", o.ABMLL.Predict)
	}
	switch o.ABMLL.Sampling {
	case "dense", "local", "auto":
	default:
		return fmt.Errorf("meta: abmll sampling %q (want dense, local or auto)", o.ABMLL.Sampling)
	}
	return nil
}

// Constructor builds a method from the (default-filled) options.
type Constructor func(opts Options) (Method, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Constructor{}
)

// Register adds a method constructor. Each method package (core/meta/lora,
// maml, abmll, degaml) registers its methods from init(), so this table knows
// none of them; core/meta/methods imports them all for the front ends.
func Register(name string, c Constructor) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("meta: method registered twice: " + name)
	}
	registry[name] = c
}

func init() {
	Register(Base, func(Options) (Method, error) { return baseMethod{}, nil })
}

// New returns the method called name with opts (zero fields take defaults).
func New(name string, opts Options) (Method, error) {
	opts.fill()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	registryMu.RLock()
	c, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("meta: unknown method %q (known: %v)", name, Names())
	}
	return c(opts)
}

// Names lists the registered methods, canonical ones first in table order.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	seen := map[string]bool{}
	for _, m := range api.Methods { // the row order of results tables
		n := string(m.Method)
		if _, ok := registry[n]; ok {
			out = append(out, n)
			seen[n] = true
		}
	}
	var extra []string
	for n := range registry {
		if !seen[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}
