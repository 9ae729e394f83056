package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/degaml/workbench/models/tokenizer"
)

// Preset is a built-in model size of the workbench's own (byte-vocabulary) models.
type Preset struct {
	Name   string
	Config Config
	// Tokenizer is "byte" (tokenizer.Byte) or "word" (tokenizer.Word over the built-in suites' vocabulary,
	// which the caller supplies: Config.VocabSize reserves WordVocabSize ids for it).
	Tokenizer   string
	Params      int64
	Description string
}

// Both presets are Llama-architecture models over the byte tokenizer. Embeddings are untied: with a 259-token
// vocabulary the LM head costs only vocab·hidden parameters (7 % of nano), and untied weights let the output
// layer specialise freely, which small byte models benefit from. All widths are multiples of 32 so the SIMD
// matmul kernels of the go backend run full tiles.
var presets = []Preset{
	{
		// The default of the built-in world: a closed word vocabulary makes a step ~7× cheaper than bytes for
		// the same items, and option words are single tokens (../shared/SUITES-V2.md).
		Name: "nano-word", Tokenizer: "word",
		Config: Config{
			Arch: "llama", VocabSize: WordVocabSize,
			HiddenSize: 128, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, IntermediateSize: 352,
			MaxPositions: 64, RopeTheta: 10000, RMSNormEps: 1e-5,
			BOSTokenID: tokenizer.WordBOS, EOSTokenID: tokenizer.WordEOS,
		},
		Description: "word-vocabulary Llama, 2 layers × 128 wide (GQA 4/2), 64-word context: the built-in world's default",
	},
	{
		Name: "nano", Tokenizer: "byte",
		Config: Config{
			Arch: "llama", VocabSize: tokenizer.ByteVocabSize,
			HiddenSize: 128, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, IntermediateSize: 384,
			MaxPositions: 256, RopeTheta: 10000, RMSNormEps: 1e-5,
			BOSTokenID: tokenizer.ByteBOS, EOSTokenID: tokenizer.ByteEOS,
		},
		Description: "byte-level Llama, 2 layers × 128 wide (GQA 4/2), 256-token context: fast tests and CPU demos",
	},
	{
		Name: "micro", Tokenizer: "byte",
		Config: Config{
			Arch: "llama", VocabSize: tokenizer.ByteVocabSize,
			HiddenSize: 256, NumLayers: 4, NumHeads: 8, NumKVHeads: 4, HeadDim: 32, IntermediateSize: 768,
			MaxPositions: 512, RopeTheta: 10000, RMSNormEps: 1e-5,
			BOSTokenID: tokenizer.ByteBOS, EOSTokenID: tokenizer.ByteEOS,
		},
		Description: "byte-level Llama, 4 layers × 256 wide (GQA 8/4), 512-token context: the largest built-in byte model",
	},
}

// WordVocabSize is the vocabulary size the word presets reserve: the built-in suites' words plus the word
// tokenizer's special tokens must fit (a test checks it); spare ids are never produced.
const WordVocabSize = 256

func init() {
	for i := range presets {
		presets[i].Params = CountParams(presets[i].Config)
	}
}

// Presets lists the built-in model sizes, smallest first.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	copy(out, presets)
	return out
}

// PresetConfig returns the configuration of a named preset.
func PresetConfig(name string) (Config, error) {
	p, err := PresetByName(name)
	return p.Config, err
}

// PresetByName returns a named preset.
func PresetByName(name string) (Preset, error) {
	for _, p := range presets {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	sort.Strings(names)
	return Preset{}, fmt.Errorf("models: unknown preset %q (have %s)", name, strings.Join(names, ", "))
}

// CountParams is the number of weights of a Llama/Qwen2 model with cfg, counted from the shapes (embedding,
// per layer q/k/v/o (+ q/k/v biases for Qwen2), gate/up/down, two RMSNorms; final norm; LM head unless tied).
func CountParams(cfg Config) int64 {
	h, v := int64(cfg.HiddenSize), int64(cfg.VocabSize)
	dh := int64(cfg.HeadDim)
	if dh == 0 && cfg.NumHeads > 0 {
		dh = h / int64(cfg.NumHeads)
	}
	q, kv := int64(cfg.NumHeads)*dh, int64(cfg.NumKVHeads)*dh
	ff := int64(cfg.IntermediateSize)
	layer := h*q + 2*h*kv + q*h + 3*h*ff + 2*h
	if cfg.QKVBias {
		layer += q + 2*kv
	}
	n := v*h + int64(cfg.NumLayers)*layer + h
	if !cfg.TieEmbeddings {
		n += v * h
	}
	return n
}
