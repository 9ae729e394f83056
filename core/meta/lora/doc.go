// Package lora holds the two plain-LoRA baselines: nometa-lora (a LoRA trained
// on the task's own support set) and union-lora (one LoRA trained on the union
// of the in-domain training tasks). Both register themselves with core/meta.
package lora
