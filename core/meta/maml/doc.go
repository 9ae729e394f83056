// Package maml is MAML-en-LLM (Sinha et al., KDD 2024): bi-level MAML over the
// LoRA tensors, second-order by default, registered with core/meta as
// maml-en-llm. Its graph builders are the shared bi-level tail ABMLL reuses.
package maml
