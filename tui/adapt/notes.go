package adapt

import "github.com/degaml/workbench/core/api"

// One paragraph per method and per hypothesis family, shown beside the
// chart so a newcomer can read what the curves mean.

var methodNotes = map[api.Method]string{
	api.MethodDeGAMLGen:  "Generalization only. The generator reads a batch of the task's unlabeled prompts and emits a LoRA in one forward pass: no gradient step on this task. Its accuracy is a flat line — the starting point that adaptation must beat.",
	api.MethodDeGAML:     "Decoupled (full DeGAML). The generated LoRA is the start; the policy then picks one adaptation hypothesis — a family plus hyperparameters — scored on the validation split, and runs it. The curve shows that refinement step by step.",
	api.MethodNoMetaLoRA: "No-Meta-Train LoRA. A fresh LoRA trained on this task's support examples only; nothing is shared across tasks. The support loss falls fast; whether the query loss follows shows over-fitting.",
	api.MethodUnionLoRA:  "Union-Train LoRA. One LoRA trained on the union of all in-domain training tasks, then used as is. A multi-task average: no per-task adaptation at all.",
	api.MethodMAMLEnLLM:  "MAML-en-LLM. A meta-learned LoRA initialization, adapted here by a few inner gradient steps on the support set. Generalization and adaptation share one set of parameters — the coupling DeGAML removes.",
	api.MethodABMLL:      "ABMLL. Amortized Bayesian meta-learning: a posterior over per-task LoRA weights, predicted from the support set and regularized toward global parameters; reports calibration (ECE) as well as accuracy.",
	api.MethodBase:       "Base model. The frozen model with no adapter: the floor every method is compared with.",
}

// MethodNote returns the note for a method ("" if unknown).
func MethodNote(method api.Method) string { return methodNotes[method] }

// FamilyNote returns the note for a hypothesis family ("" if unknown): the
// contract's description, so every front end explains a family alike.
func FamilyNote(family string) string { return api.Family(family).Long() }
