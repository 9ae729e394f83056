// Package maml is MAML-en-LLM (Sinha et al., KDD 2024): bi-level MAML over the
// LoRA tensors, second-order by default, registered with core/meta as
// maml-en-llm. The support/query batching it shares with ABMLL lives in
// core/meta/internal/kit.
package maml
