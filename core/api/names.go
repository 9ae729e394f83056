package api

// The names below are the contract's vocabulary: the engine publishes them in
// events and results, the front ends send them in requests, and bench tables
// and the run log store them. They are typed so that a method cannot be
// passed where a stage is meant; the wire (JSON, AdaptRequest.Method,
// events.Event.Method/Stage, HypothesisInfo.Family) carries the plain string.

// Method names one row of the results table.
type Method string

// The methods the workbench compares.
const (
	MethodBase       Method = "base"        // the frozen base model, no adapter
	MethodNoMetaLoRA Method = "nometa-lora" // a fresh LoRA on the task's support set
	MethodUnionLoRA  Method = "union-lora"  // one LoRA on the union of the training tasks
	MethodMAMLEnLLM  Method = "maml-en-llm" // meta-learned LoRA init + inner steps
	MethodABMLL      Method = "abmll"       // amortized Bayesian meta-learning of LoRA
	MethodDeGAMLGen  Method = "degaml-gen"  // DeGAML's generalization module only
	MethodDeGAML     Method = "degaml"      // DeGAML: generator + adaptation policy
)

// MethodInfo describes one method for lists, pickers and table rows.
type MethodInfo struct {
	Method   Method
	Label    string // the paper's row name, e.g. "No-Meta-Train LoRA"
	Baseline bool   // one of the paper's baselines (tickable onto a chart)
}

// Methods lists every method in results-table order: the base model, the
// baselines, then DeGAML's two modes.
var Methods = []MethodInfo{
	{MethodBase, "Base", false},
	{MethodNoMetaLoRA, "No-Meta-Train LoRA", true},
	{MethodUnionLoRA, "Union-Train LoRA", true},
	{MethodMAMLEnLLM, "MAML-en-LLM", true},
	{MethodABMLL, "ABMLL", true},
	{MethodDeGAMLGen, "DeGAML (G only)", false},
	{MethodDeGAML, "DeGAML", false},
}

// Baselines are the paper's baseline methods, in table order.
func Baselines() []Method {
	var out []Method
	for _, m := range Methods {
		if m.Baseline {
			out = append(out, m.Method)
		}
	}
	return out
}

// ParseMethod returns the method named s, or false when there is none.
func ParseMethod(s string) (Method, bool) {
	for _, m := range Methods {
		if string(m.Method) == s {
			return m.Method, true
		}
	}
	return "", false
}

// Label is the method's display name; an unknown method shows its id.
func (m Method) Label() string {
	for _, i := range Methods {
		if i.Method == m {
			return i.Label
		}
	}
	return string(m)
}

// Stage names one step of the offline pipeline that prepares every method.
type Stage string

// The pipeline's stages, in the order they run.
const (
	StageBase      Stage = "base"      // pretrain the preset (or import an HF model)
	StageCollect   Stage = "collect"   // per-task LoRA trajectories (DeGAML checkpoint collection)
	StageGenerator Stage = "generator" // the generalization module G
	StagePolicy    Stage = "policy"    // the adaptation module π (ReST^EM)
	StageBaselines Stage = "baselines" // meta-training of union-lora, maml-en-llm, abmll
)

// Stages lists the pipeline's stages in order.
var Stages = []Stage{StageBase, StageCollect, StageGenerator, StagePolicy, StageBaselines}

// Family names a kind of adaptation hypothesis DeGAML's policy chooses from.
type Family string

// The hypothesis families.
const (
	FamilyTTT  Family = "ttt"  // test-time training on unlabeled prompts
	FamilyTTS  Family = "tts"  // test-time scaling: several adapters vote
	FamilyMix  Family = "mix"  // interpolation of two generated adapters
	FamilySLOT Family = "slot" // one vector added to the final hidden state
	// FamilySFT fine-tunes the generated adapter on the labelled support set
	// (not one of the paper's four: the support labels every baseline gets).
	FamilySFT Family = "sft"
)

// FamilyInfo describes one family for the hypothesis card.
type FamilyInfo struct {
	Family Family
	Label  string // short name, e.g. "TTT"
	Long   string // a sentence or two: what the family does
}

// Families lists the hypothesis families in a fixed order.
var Families = []FamilyInfo{
	{FamilyTTT, "TTT", "TTT — test-time training: fine-tune the generated LoRA with the causal-LM loss on the task's unlabeled prompts for a few steps at a small learning rate."},
	{FamilyTTS, "TTS", "TTS — test-time scaling: generate several adapters from resampled prompt batches and combine their answers by majority vote or maximum confidence."},
	{FamilyMix, "mixing", "LoRA mixing — interpolate two generated adapters with λ ∈ [0,1]; no gradient steps, so the curve is short."},
	{FamilySLOT, "SLOT", "SLOT — learn one vector δ added to the final hidden state, fitted by cross-entropy on up to 32 prompts in a few steps at a large learning rate."},
	{FamilySFT, "SFT", "SFT — supervised fine-tuning: train the generated LoRA on the task's labelled support examples, the labels every baseline also gets (not one of the paper's four families)."},
}

func (f Family) info() (FamilyInfo, bool) {
	for _, i := range Families {
		if i.Family == f {
			return i, true
		}
	}
	return FamilyInfo{}, false
}

// Label is the family's short display name; an unknown family shows its id.
func (f Family) Label() string {
	if i, ok := f.info(); ok {
		return i.Label
	}
	return string(f)
}

// Long is the family's one-sentence description, "" for an unknown family.
func (f Family) Long() string {
	i, _ := f.info()
	return i.Long
}
