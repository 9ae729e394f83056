// Package degaml is DeGAML-LLM: a generalization module (collected LoRA
// trajectories → a generator that maps a task's unlabeled prompts to an
// adapter) and an adaptation module (a ReST^EM policy over adaptation families
// TTT, TTS, mixing, SLOT and SFT). It registers degaml-gen (generator only) and
// degaml (generator + policy) with core/meta.
package degaml
