package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/gomlx/gomlx/core/tensors"
)

// PEFT file layout: adapter_config.json + adapter_model.safetensors whose tensors are named
// "base_model.model." + <adapter name> + ".weight" (PEFT strips the ".default" adapter name when saving).
const (
	peftConfigFile  = "adapter_config.json"
	peftWeightsFile = "adapter_model.safetensors"
	peftPrefix      = "base_model.model."
)

var peftNameRE = regexp.MustCompile(`^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)\.lora_([AB])$`)

// PEFTName converts an adapter tensor name ("model.layers.0.self_attn.q_proj.lora_A") to its name in
// adapter_model.safetensors ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").
func PEFTName(name string) string { return peftPrefix + name + ".weight" }

// adapterName is the inverse of PEFTName; it also accepts the in-memory PEFT form with ".default".
func adapterName(peft string) (string, bool) {
	s, ok := strings.CutPrefix(peft, peftPrefix)
	if !ok {
		return "", false
	}
	if s, ok = strings.CutSuffix(s, ".weight"); !ok {
		return "", false
	}
	s, _ = strings.CutSuffix(s, ".default")
	return s, true
}

type peftConfig struct {
	PeftType          *string         `json:"peft_type"`
	R                 *int            `json:"r"`
	LoraAlpha         *float64        `json:"lora_alpha"`
	UseRSLoRA         bool            `json:"use_rslora"`
	UseDoRA           bool            `json:"use_dora"`
	TargetModules     json.RawMessage `json:"target_modules"`
	Bias              *string         `json:"bias"`
	FanInFanOut       bool            `json:"fan_in_fan_out"`
	LayersToTransform json.RawMessage `json:"layers_to_transform"`
	ModulesToSave     json.RawMessage `json:"modules_to_save"`
	RankPattern       map[string]any  `json:"rank_pattern"`
	AlphaPattern      map[string]any  `json:"alpha_pattern"`
}

func isNullOrEmpty(m json.RawMessage) bool {
	s := string(bytes.TrimSpace(m))
	return s == "" || s == "null" || s == "[]"
}

// LoadPEFT loads a PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors). Options that
// change the computation and are not implemented (DoRA, biases, rank/alpha patterns, layer subsets, extra saved
// modules, fan_in_fan_out) are rejected rather than silently ignored. Use Adapter.Validate to check the adapter
// against a model config.
func LoadPEFT(dir string) (*Adapter, error) {
	cfgPath := filepath.Join(dir, peftConfigFile)
	data, err := readJSONFile(cfgPath)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*Adapter, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{cfgPath}, args...)...)
	}
	var pc peftConfig
	if err := json.Unmarshal(data, &pc); err != nil {
		return fail("%v", err)
	}
	switch {
	case pc.PeftType != nil && *pc.PeftType != "LORA":
		return fail("peft_type %q is not supported (only LORA)", *pc.PeftType)
	case pc.R == nil:
		return fail("missing r")
	case pc.LoraAlpha == nil:
		return fail("missing lora_alpha")
	case pc.UseDoRA:
		return fail("use_dora=true is not supported")
	case pc.Bias != nil && *pc.Bias != "none":
		return fail("bias=%q is not supported (only none)", *pc.Bias)
	case pc.FanInFanOut:
		return fail("fan_in_fan_out=true is not supported")
	case !isNullOrEmpty(pc.LayersToTransform):
		return fail("layers_to_transform is not supported")
	case !isNullOrEmpty(pc.ModulesToSave):
		return fail("modules_to_save is not supported")
	case len(pc.RankPattern) > 0 || len(pc.AlphaPattern) > 0:
		return fail("rank_pattern/alpha_pattern are not supported")
	}
	l := LoRAConfig{Rank: *pc.R, Alpha: *pc.LoraAlpha, RSLoRA: pc.UseRSLoRA}
	var targets []string
	if err := json.Unmarshal(pc.TargetModules, &targets); err != nil {
		// PEFT also allows a single string (a regex); accept it only when it names one module type exactly.
		var one string
		if json.Unmarshal(pc.TargetModules, &one) != nil || !slices.Contains(loraTargets, one) {
			return fail("target_modules must be a list of module names, got %s", pc.TargetModules)
		}
		targets = []string{one}
	}
	for _, t := range loraTargets { // canonical order, duplicates dropped
		if slices.Contains(targets, t) {
			l.Targets = append(l.Targets, t)
		}
	}
	for _, t := range targets {
		if !slices.Contains(loraTargets, t) {
			return fail("unsupported target module %q (want among %v)", t, loraTargets)
		}
	}
	if err := l.Validate(); err != nil {
		return fail("%v", err)
	}

	wPath := filepath.Join(dir, peftWeightsFile)
	ts, _, err := safetensors.ReadFile(wPath)
	if err != nil {
		return nil, err
	}
	p := make(Params, len(ts))
	for _, pn := range sortedKeys(ts) {
		t := ts[pn]
		name, ok := adapterName(pn)
		m := peftNameRE.FindStringSubmatch(name)
		if !ok || m == nil {
			return nil, fmt.Errorf("%s: unexpected tensor %q (want base_model.model.model.layers.N.<module>.lora_A|B.weight)", wPath, pn)
		}
		if _, err := strconv.Atoi(m[1]); err != nil || !slices.Contains(l.Targets, m[3]) {
			return nil, fmt.Errorf("%s: tensor %q is not a LoRA tensor of a target module %v", wPath, pn, l.Targets)
		}
		if group, _, _ := moduleDims(Config{}, m[3]); group != m[2] {
			return nil, fmt.Errorf("%s: tensor %q: %s belongs under %s", wPath, pn, m[3], group)
		}
		if !safetensors.IsFloat(t.DType) || len(t.Shape) != 2 {
			return nil, fmt.Errorf("%s: tensor %q must be a float matrix, got %s %v", wPath, pn, t.DType, t.Shape)
		}
		if (m[4] == "A" && t.Shape[0] != l.Rank) || (m[4] == "B" && t.Shape[1] != l.Rank) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, inconsistent with r=%d", wPath, pn, t.Shape, l.Rank)
		}
		if _, dup := p[name]; dup {
			return nil, fmt.Errorf("%s: tensor %q appears twice", wPath, pn)
		}
		p[name] = tensors.FromFlatDataAndDimensions(t.F32, t.Shape...)
	}
	for name := range p { // every A needs its B and vice versa
		other := name[:len(name)-1] + map[byte]string{'A': "B", 'B': "A"}[name[len(name)-1]]
		if _, ok := p[other]; !ok {
			return nil, fmt.Errorf("%s: %q has no matching %q", wPath, PEFTName(name), PEFTName(other))
		}
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("%s: no LoRA tensors", wPath)
	}
	return &Adapter{Config: l, Params: p}, nil
}

// SavePEFT writes the adapter as a PEFT directory (adapter_config.json + adapter_model.safetensors) that PEFT's
// PeftModel.from_pretrained and LoadPEFT both read. Each file is replaced atomically.
func (a *Adapter) SavePEFT(dir string) error {
	if err := a.Config.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ts := make(map[string]safetensors.Tensor, len(a.Params))
	for n, t := range a.Params {
		if !peftNameRE.MatchString(n) {
			return fmt.Errorf("models.SavePEFT: %q is not a LoRA tensor name", n)
		}
		ts[PEFTName(n)] = safetensors.Tensor{DType: "F32", Shape: slices.Clone(t.Shape().Dimensions), F32: tensors.MustCopyFlatData[float32](t)}
	}
	if err := safetensors.Write(filepath.Join(dir, peftWeightsFile), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	cfg := map[string]any{
		"peft_type":               "LORA",
		"task_type":               "CAUSAL_LM",
		"r":                       a.Config.Rank,
		"lora_alpha":              a.Config.Alpha,
		"use_rslora":              a.Config.RSLoRA,
		"target_modules":          a.Config.Targets,
		"lora_dropout":            0.0,
		"bias":                    "none",
		"fan_in_fan_out":          false,
		"use_dora":                false,
		"init_lora_weights":       true,
		"inference_mode":          true,
		"base_model_name_or_path": nil,
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, peftConfigFile), append(data, '\n'), 0o644)
}

// LoRAFits checks that a LoRA config makes sense for a model: a rank larger
// than a targeted module's smaller side adds parameters and memory without
// adding anything a full-rank update could not do (rank 10,000 on a 64-wide
// model used 4.5 GB before its first step).
func LoRAFits(cfg Config, l LoRAConfig) error {
	if err := l.Validate(); err != nil {
		return err
	}
	for _, t := range l.Targets {
		_, in, out := moduleDims(cfg, t)
		if side := min(in, out); l.Rank > side {
			return fmt.Errorf("lora rank %d exceeds %s's smaller dimension %d (%d×%d) in this model: use a rank of at most %d",
				l.Rank, t, side, in, out, side)
		}
	}
	return nil
}
