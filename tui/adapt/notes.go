package adapt

// One paragraph per method and per hypothesis family, shown beside the
// chart so a newcomer can read what the curves mean.

var methodNotes = map[string]string{
	"degaml-gen":  "Generalization only. The generator reads a batch of the task's unlabeled prompts and emits a LoRA in one forward pass: no gradient step on this task. Its accuracy is a flat line — the starting point that adaptation must beat.",
	"degaml":      "Decoupled (full DeGAML). The generated LoRA is the start; the policy then picks one adaptation hypothesis — a family plus hyperparameters — scored on the validation split, and runs it. The curve shows that refinement step by step.",
	"nometa-lora": "No-Meta-Train LoRA. A fresh LoRA trained on this task's support examples only; nothing is shared across tasks. The support loss falls fast; whether the query loss follows shows over-fitting.",
	"union-lora":  "Union-Train LoRA. One LoRA trained on the union of all in-domain training tasks, then used as is. A multi-task average: no per-task adaptation at all.",
	"maml-en-llm": "MAML-en-LLM. A meta-learned LoRA initialization, adapted here by a few inner gradient steps on the support set. Generalization and adaptation share one set of parameters — the coupling DeGAML removes.",
	"abmll":       "ABMLL. Amortized Bayesian meta-learning: a posterior over per-task LoRA weights, predicted from the support set and regularized toward global parameters; reports calibration (ECE) as well as accuracy.",
	"base":        "Base model. The frozen model with no adapter: the floor every method is compared with.",
}

var familyNotes = map[string]string{
	"ttt":  "TTT — test-time training: fine-tune the generated LoRA with the causal-LM loss on the task's unlabeled prompts for a few steps at a small learning rate.",
	"tts":  "TTS — test-time scaling: generate several adapters from resampled prompt batches and combine their answers by majority vote or maximum confidence.",
	"mix":  "LoRA mixing — interpolate two generated adapters with λ ∈ [0,1]; no gradient steps, so the curve is short.",
	"slot": "SLOT — learn one vector δ added to the final hidden state, fitted by cross-entropy on up to 32 prompts in a few steps at a large learning rate.",
}

// MethodNote returns the note for a method ("" if unknown).
func MethodNote(method string) string { return methodNotes[method] }

// FamilyNote returns the note for a hypothesis family ("" if unknown).
func FamilyNote(family string) string { return familyNotes[family] }
