package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/degaml/workbench/models/safetensors"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/gomlx/gomlx/core/tensors"
)

// Model is a loaded base model: its config, weights and tokenizer (nil when the directory has no tokenizer).
type Model struct {
	Config    Config
	Params    Params
	Tokenizer tokenizer.Tokenizer
}

// LoadHF loads a Hugging Face Llama/Qwen2 checkpoint directory: config.json, then model.safetensors or the
// shards listed in model.safetensors.index.json (F32/F16/BF16, widened to float32), and tokenizer.json when
// present. Every expected tensor must be present with its exact shape and no unexpected tensor may appear; the
// only tolerated extra is lm_head.weight when the embeddings are tied (some exporters save the shared copy).
func LoadHF(dir string) (*Model, error) {
	cfg, err := LoadHFConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	// Check config.json against the tensors' headers before anything is
	// allocated: a config claiming a million layers must fail here, not after
	// building a million layers' worth of expectations.
	if err := checkConfigAgainstHeaders(dir, cfg); err != nil {
		return nil, err
	}
	raw, err := readWeights(dir)
	if err != nil {
		return nil, err
	}
	if cfg.TieEmbeddings {
		delete(raw, "lm_head.weight")
	}
	want := ParamShapes(cfg)
	p := make(Params, len(raw))
	for _, n := range sortedKeys(raw) {
		t := raw[n]
		shape, ok := want[n]
		if !ok {
			return nil, fmt.Errorf("%s: unexpected tensor %q (not part of a %s model with this config)", dir, n, cfg.Arch)
		}
		if !safetensors.IsFloat(t.DType) {
			return nil, fmt.Errorf("%s: tensor %q has dtype %s, want a float dtype", dir, n, t.DType)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, want %v", dir, n, t.Shape, shape)
		}
		p[n] = tensors.FromFlatDataAndDimensions(t.F32, shape...)
	}
	if err := CheckShapes(p, want, dir); err != nil {
		return nil, err // only "missing" can remain here
	}
	m := &Model{Config: cfg, Params: p}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		if m.Tokenizer, err = tokenizer.Load(dir); err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", dir, err)
		}
	}
	return m, nil
}

// readWeights reads model.safetensors, or every shard of model.safetensors.index.json (checking that each
// tensor sits in the shard the index names and appears once).
func readWeights(dir string) (map[string]safetensors.Tensor, error) {
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		ts, _, err := safetensors.ReadFile(single)
		return ts, err
	}
	indexPath := filepath.Join(dir, "model.safetensors.index.json")
	data, err := readJSONFile(indexPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: neither model.safetensors nor model.safetensors.index.json found", dir)
	} else if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", indexPath, err)
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", indexPath)
	}
	byFile := map[string][]string{}
	for name, file := range index.WeightMap {
		// Shards must be plain file names in dir: an index must not make us read elsewhere.
		if file == "" || filepath.Base(file) != file || file == "." || file == ".." {
			return nil, fmt.Errorf("%s: tensor %q maps to invalid shard file name %q", indexPath, name, file)
		}
		byFile[file] = append(byFile[file], name)
	}
	files := sortedKeys(byFile)
	out := map[string]safetensors.Tensor{}
	for _, file := range files {
		ts, _, err := safetensors.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		listed := byFile[file]
		sort.Strings(listed)
		for _, name := range listed {
			if _, ok := ts[name]; !ok {
				return nil, fmt.Errorf("%s: tensor %q is listed in the index but missing from shard %s", indexPath, name, file)
			}
		}
		for name, t := range ts {
			if owner, ok := index.WeightMap[name]; !ok || owner != file {
				return nil, fmt.Errorf("%s: shard %s holds tensor %q that the index does not assign to it", indexPath, file, name)
			}
			out[name] = t
		}
	}
	return out, nil
}

// checkConfigAgainstHeaders compares config.json with the tensors the
// weight files declare (headers only): the number of layers and the
// embedding's shape.
func checkConfigAgainstHeaders(dir string, cfg Config) error {
	files := []string{"model.safetensors"}
	if _, err := os.Stat(filepath.Join(dir, files[0])); err != nil {
		data, err := readJSONFile(filepath.Join(dir, "model.safetensors.index.json"))
		if err != nil {
			return nil // readWeights reports the missing files
		}
		var index struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if json.Unmarshal(data, &index) != nil {
			return nil // readWeights reports the bad index
		}
		files = files[:0]
		for _, f := range index.WeightMap {
			if filepath.Base(f) == f && !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
		sort.Strings(files)
	}
	layers := map[int]bool{}
	var embed []int
	for _, f := range files {
		h, err := safetensors.ReadHeader(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		for _, t := range h.Tensors {
			var i int
			var rest string
			if n, _ := fmt.Sscanf(t.Name, "model.layers.%d.%s", &i, &rest); n == 2 {
				layers[i] = true
			}
			if t.Name == "model.embed_tokens.weight" {
				embed = t.Shape
			}
		}
	}
	// More layers than claimed is reported later, precisely, as unexpected
	// tensors; fewer is what would allocate for nothing.
	if cfg.NumLayers > len(layers) {
		return fmt.Errorf("%s: config.json says num_hidden_layers = %d, but the weights hold %d layers", dir, cfg.NumLayers, len(layers))
	}
	if embed != nil && !slices.Equal(embed, []int{cfg.VocabSize, cfg.HiddenSize}) {
		return fmt.Errorf("%s: config.json says vocab_size %d × hidden_size %d, but model.embed_tokens.weight is %v",
			dir, cfg.VocabSize, cfg.HiddenSize, embed)
	}
	return nil
}
