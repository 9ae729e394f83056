// Package models implements Llama/Qwen2 decoder-only transformers and PEFT-style LoRA as pure GoMLX graph
// functions over named weights (see ARCHITECTURE.md, "models (contract)").
package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
)

// Config describes a Llama/Qwen2-style decoder-only transformer.
type Config struct {
	// Arch is "llama" or "qwen2".
	Arch string

	VocabSize, HiddenSize, NumLayers, NumHeads, NumKVHeads, HeadDim, IntermediateSize, MaxPositions int

	RopeTheta, RMSNormEps float64

	// QKVBias: q/k/v projections have biases (Qwen2). TieEmbeddings: lm_head reuses the embedding matrix.
	QKVBias, TieEmbeddings bool

	// BOSTokenID, EOSTokenID are -1 when none.
	BOSTokenID, EOSTokenID int

	// RopeScaling rescales the rotary frequencies (Llama 3.1+); the zero value is none.
	RopeScaling RopeScaling
}

// RopeScaling is HF's rope_scaling of rope_type "llama3" (transformers' _compute_llama3_parameters):
// wavelengths longer than OriginalMaxPositions/LowFreqFactor are stretched by Factor, those shorter than
// OriginalMaxPositions/HighFreqFactor are kept, and the band between is interpolated smoothly.
type RopeScaling struct {
	Type                                  string // "" (none) or "llama3"
	Factor, LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositions                  int
}

// validate checks a llama3 scaling as transformers' _validate_llama3_parameters does (factor ≥ 1,
// high_freq_factor > low_freq_factor; positive sizes so no wavelength bound divides by zero).
func (r RopeScaling) validate() error {
	switch r.Type {
	case "":
		return nil
	case "llama3":
	default:
		return fmt.Errorf("rope_scaling type %q is not supported (only llama3)", r.Type)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(r.Factor) || r.Factor < 1:
		return fmt.Errorf("rope_scaling.factor %v must be a finite number >= 1", r.Factor)
	case !finite(r.LowFreqFactor) || r.LowFreqFactor <= 0:
		return fmt.Errorf("rope_scaling.low_freq_factor %v must be positive and finite", r.LowFreqFactor)
	case !finite(r.HighFreqFactor) || r.HighFreqFactor <= r.LowFreqFactor:
		return fmt.Errorf("rope_scaling.high_freq_factor %v must be finite and greater than low_freq_factor %v", r.HighFreqFactor, r.LowFreqFactor)
	case r.OriginalMaxPositions <= 0 || r.OriginalMaxPositions > maxDim:
		return fmt.Errorf("rope_scaling.original_max_position_embeddings = %d out of range [1, %d]", r.OriginalMaxPositions, maxDim)
	}
	return nil
}

// maxDim bounds every size read from a config so shape products cannot overflow int on any platform.
const maxDim = 1 << 24

// maxLayers and maxParams bound what a config may describe (the largest
// open models have ~130 layers and ~4e11 parameters).
const (
	maxLayers = 1024
	maxParams = int64(1) << 40
)

// approxParams counts the weights a config describes (embeddings, attention,
// MLP), in int64 with every dimension already bounded by maxDim.
func (c Config) approxParams() int64 {
	h, l := int64(c.HiddenSize), int64(c.NumLayers)
	attn := h*int64(c.NumHeads*c.HeadDim)*2 + h*int64(c.NumKVHeads*c.HeadDim)*2
	mlp := 3 * h * int64(c.IntermediateSize)
	return 2*int64(c.VocabSize)*h + l*(attn+mlp)
}

// Validate checks internal consistency (positive sizes, GQA divisibility, even head_dim for RoPE).
func (c Config) Validate() error {
	if c.Arch != "llama" && c.Arch != "qwen2" {
		return fmt.Errorf("unsupported architecture %q (want llama or qwen2)", c.Arch)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads}, {"head_dim", c.HeadDim},
		{"intermediate_size", c.IntermediateSize}, {"max_position_embeddings", c.MaxPositions}} {
		if f.v <= 0 || f.v > maxDim {
			return fmt.Errorf("%s = %d out of range [1, %d]", f.name, f.v, maxDim)
		}
	}
	// No real model comes near these; a config that claims more is damaged
	// or hostile, and would allocate without bound before failing.
	if c.NumLayers > maxLayers {
		return fmt.Errorf("num_hidden_layers = %d exceeds the %d-layer limit", c.NumLayers, maxLayers)
	}
	if n := c.approxParams(); n > maxParams {
		return fmt.Errorf("the config describes ~%.3g parameters, over the %.3g limit", float64(n), float64(maxParams))
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d must be even for rotary embeddings", c.HeadDim)
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rope_theta %v must be positive and finite", c.RopeTheta)
	}
	if err := c.RopeScaling.validate(); err != nil {
		return err
	}
	if !(c.RMSNormEps > 0) || c.RMSNormEps >= 1 {
		return fmt.Errorf("rms_norm_eps %v must be in (0, 1)", c.RMSNormEps)
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"bos_token_id", c.BOSTokenID}, {"eos_token_id", c.EOSTokenID}} {
		if id.v < -1 || id.v >= c.VocabSize {
			return fmt.Errorf("%s %d outside the vocabulary (size %d)", id.name, id.v, c.VocabSize)
		}
	}
	return nil
}

// LoadHFConfig reads a Hugging Face config.json.
func LoadHFConfig(path string) (Config, error) {
	data, err := readJSONFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseHFConfig(data, path)
}

// ParseHFConfig parses the bytes of a Hugging Face config.json (model_type "llama" or "qwen2"). name labels
// error messages (usually the file path). Unknown keys are ignored (HF configs carry many irrelevant ones), but
// every key that changes the computation is either honoured or rejected as unsupported.
func ParseHFConfig(data []byte, name string) (Config, error) {
	fail := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep integers exact and distinguishable from floats
	if err := dec.Decode(&m); err != nil {
		return fail("invalid JSON: %v", err)
	}
	if m == nil {
		return fail("want a JSON object")
	}
	if dec.More() {
		return fail("trailing data after the JSON object")
	}
	p := cfgParser{m: m}
	c := Config{BOSTokenID: -1, EOSTokenID: -1}
	c.Arch = p.str("model_type", "")
	if c.Arch != "llama" && c.Arch != "qwen2" {
		if p.err != nil {
			return fail("%v", p.err)
		}
		return fail("model_type %q is not supported (want llama or qwen2)", c.Arch)
	}
	c.VocabSize = p.int("vocab_size", -1)
	c.HiddenSize = p.int("hidden_size", -1)
	c.NumLayers = p.int("num_hidden_layers", -1)
	c.NumHeads = p.int("num_attention_heads", -1)
	c.NumKVHeads = p.int("num_key_value_heads", c.NumHeads)
	c.IntermediateSize = p.int("intermediate_size", -1)
	c.MaxPositions = p.int("max_position_embeddings", -1)
	c.HeadDim = p.int("head_dim", 0)
	if c.HeadDim == 0 && c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	c.RMSNormEps = p.float("rms_norm_eps", -1)
	c.TieEmbeddings = p.bool("tie_word_embeddings", false)
	c.BOSTokenID = p.tokenID("bos_token_id")
	c.EOSTokenID = p.tokenID("eos_token_id")

	// rope_theta moved under rope_parameters in transformers v5, together with the scaling (rope_type there);
	// v4 configs keep rope_theta at the top and the scaling under rope_scaling. Accept both, prefer the nested.
	c.RopeTheta = p.float("rope_theta", 10000)
	if rs, ok := m["rope_scaling"]; ok && rs != nil {
		rsm, ok := rs.(map[string]any)
		if !ok {
			return fail("rope_scaling must be an object")
		}
		sub := cfgParser{m: rsm, prefix: "rope_scaling."}
		c.RopeScaling = sub.ropeScaling()
		if sub.err != nil {
			return fail("%v", sub.err)
		}
	}
	if rp, ok := m["rope_parameters"]; ok && rp != nil {
		rpm, ok := rp.(map[string]any)
		if !ok {
			return fail("rope_parameters must be an object")
		}
		sub := cfgParser{m: rpm, prefix: "rope_parameters."}
		c.RopeTheta = sub.float("rope_theta", c.RopeTheta)
		c.RopeScaling = sub.ropeScaling()
		if sub.err != nil {
			return fail("%v", sub.err)
		}
	}
	if act := p.str("hidden_act", "silu"); act != "silu" {
		return fail("hidden_act %q is not supported (only silu)", act)
	}
	switch c.Arch {
	case "qwen2":
		c.QKVBias = true // Qwen2 always has q/k/v biases and no o_proj bias.
		if p.bool("use_sliding_window", false) {
			return fail("use_sliding_window=true is not supported")
		}
	case "llama":
		// Llama's attention_bias also adds an o_proj bias, which Config cannot express.
		if p.bool("attention_bias", false) {
			return fail("attention_bias=true is not supported for llama")
		}
		if p.bool("mlp_bias", false) {
			return fail("mlp_bias=true is not supported")
		}
	}
	if p.err != nil {
		return fail("%v", p.err)
	}
	if err := c.Validate(); err != nil {
		return fail("%v", err)
	}
	return c, nil
}

// cfgParser reads typed values from a decoded JSON object, remembering the first error.
type cfgParser struct {
	m      map[string]any
	prefix string
	err    error
}

func (p *cfgParser) setErr(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

func (p *cfgParser) get(key string) (any, bool) {
	v, ok := p.m[key]
	return v, ok && v != nil // JSON null means "use the default"
}

func (p *cfgParser) int(key string, def int) int {
	v, ok := p.get(key)
	if !ok {
		if def < 0 {
			p.setErr("missing required key %s%s", p.prefix, key)
		}
		return def
	}
	num, isNum := v.(json.Number)
	if !isNum {
		p.setErr("%s%s must be an integer, got %T", p.prefix, key, v)
		return def
	}
	i, err := num.Int64()
	if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		p.setErr("%s%s = %s is not a 32-bit integer", p.prefix, key, num)
		return def
	}
	return int(i)
}

func (p *cfgParser) float(key string, def float64) float64 {
	v, ok := p.get(key)
	if !ok {
		if def < 0 {
			p.setErr("missing required key %s%s", p.prefix, key)
		}
		return def
	}
	num, isNum := v.(json.Number)
	if !isNum {
		p.setErr("%s%s must be a number, got %T", p.prefix, key, v)
		return def
	}
	f, err := num.Float64()
	if err != nil || math.IsInf(f, 0) {
		p.setErr("%s%s = %s is not a finite number", p.prefix, key, num)
		return def
	}
	return f
}

func (p *cfgParser) bool(key string, def bool) bool {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		p.setErr("%s%s must be a boolean, got %T", p.prefix, key, v)
		return def
	}
	return b
}

func (p *cfgParser) str(key, def string) string {
	v, ok := p.get(key)
	if !ok {
		return def
	}
	s, isStr := v.(string)
	if !isStr {
		p.setErr("%s%s must be a string, got %T", p.prefix, key, v)
		return def
	}
	return s
}

// ropeScaling reads a rope_scaling (or v5 rope_parameters) object: its rope_type (older configs: "type"),
// and for llama3 its four parameters, all required as in transformers. Types that change the computation in
// other ways (linear, dynamic, yarn, longrope, ...) are refused rather than silently ignored.
func (p *cfgParser) ropeScaling() RopeScaling {
	t := p.str("rope_type", p.str("type", "default"))
	switch t {
	case "default":
		return RopeScaling{}
	case "llama3":
		r := RopeScaling{Type: t, Factor: p.float("factor", -1), LowFreqFactor: p.float("low_freq_factor", -1),
			HighFreqFactor: p.float("high_freq_factor", -1), OriginalMaxPositions: p.int("original_max_position_embeddings", -1)}
		if p.err == nil {
			if err := r.validate(); err != nil {
				p.setErr("%v", err)
			}
		}
		return r
	default:
		p.setErr("%srope_type %q is not supported (only default and llama3)", p.prefix, t)
		return RopeScaling{}
	}
}

// tokenID reads a special-token id that may be null, an integer, or a list of integers (HF allows several EOS
// ids; the first one is kept).
func (p *cfgParser) tokenID(key string) int {
	v, ok := p.get(key)
	if !ok {
		return -1
	}
	if list, isList := v.([]any); isList {
		if len(list) == 0 {
			return -1
		}
		sub := cfgParser{m: map[string]any{key: list[0]}, prefix: p.prefix}
		id := sub.int(key, -1)
		if sub.err != nil {
			p.setErr("%v (first element of the list)", sub.err)
		}
		return id
	}
	return p.int(key, -1)
}

// maxJSONBytes bounds config.json, adapter_config.json and a shard index:
// each is a page of settings (a large index lists ~1,000 tensors), so a
// bigger file is a wrong path or a damaged download, not a model.
const maxJSONBytes = 16 << 20

// readJSONFile reads a small JSON file, refusing one over maxJSONBytes
// before reading it all (a device or a huge file must not fill memory).
func readJSONFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSONBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJSONBytes {
		return nil, fmt.Errorf("%s: larger than the %d MiB limit for a JSON settings file (models.maxJSONBytes); is it the right file?", path, maxJSONBytes>>20)
	}
	return data, nil
}
