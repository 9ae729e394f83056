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
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Model is a loaded base model: its config, weights and tokenizer (nil when the directory has no tokenizer).
type Model struct {
	Config    Config
	Params    Params
	Tokenizer tokenizer.Tokenizer
}

// LoadOptions tune LoadHFWith.
type LoadOptions struct {
	// Backend, when set, receives the weights directly: each tensor is decoded
	// from the file into a buffer that backend shares with the host (the go
	// backend does), so the weights exist once in memory. Without it the
	// tensors are host tensors, and the first executable run copies each into
	// the backend (transiently twice the weights, until the GC frees the host
	// copies). The model's tensors then belong to that backend: use them with
	// no other backend instance.
	Backend compute.Backend
}

// LoadHF loads a Hugging Face Llama/Qwen2 checkpoint directory into host tensors; see LoadHFWith.
func LoadHF(dir string) (*Model, error) { return LoadHFWith(dir, LoadOptions{}) }

// LoadHFWith loads a Hugging Face Llama/Qwen2 checkpoint directory: config.json, then model.safetensors or the
// shards listed in model.safetensors.index.json (F32/F16/BF16, widened to float32), and tokenizer.json when
// present. Every expected tensor must be present with its exact shape and no unexpected tensor may appear; the
// only tolerated extra is lm_head.weight when the embeddings are tied (some exporters save the shared copy).
//
// Everything is checked from the headers before any weight is read; then each tensor is streamed from its file
// into its final float32 storage through a small staging buffer, so loading never holds a second copy of the
// weights (a 0.5B model: one 2 GB copy, not the on-disk bytes plus a widened copy plus a tensor copy).
func LoadHFWith(dir string, opt LoadOptions) (*Model, error) {
	cfg, err := LoadHFConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	located, err := weightHeaders(dir)
	if err != nil {
		return nil, err
	}
	// Check config.json against the tensors' headers before anything is
	// allocated: a config claiming a million layers must fail here, not after
	// building a million layers' worth of expectations.
	if err := checkConfigAgainstHeaders(dir, cfg, located); err != nil {
		return nil, err
	}
	if cfg.TieEmbeddings {
		delete(located, "lm_head.weight")
	}
	want := ParamShapes(cfg)
	for _, n := range sortedKeys(located) {
		t := located[n].info
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
	}
	for _, n := range sortedKeys(want) {
		if _, ok := located[n]; !ok {
			return nil, fmt.Errorf("%s: missing tensor %q (shape %v)", dir, n, want[n])
		}
	}
	p, err := readTensors(located, opt.Backend)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Params: p}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		if m.Tokenizer, err = tokenizer.Load(dir); err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", dir, err)
		}
	}
	return m, nil
}

// locatedTensor is where one tensor's bytes are: its file, that file's header and its entry.
type locatedTensor struct {
	path   string
	header *safetensors.Header
	info   safetensors.TensorInfo
}

// readTensors streams every located tensor into a float32 tensor (a shared
// buffer of backend when given), file by file in offset order so the reads
// are sequential.
func readTensors(located map[string]locatedTensor, backend compute.Backend) (Params, error) {
	byFile := map[string][]string{}
	for n, l := range located {
		byFile[l.path] = append(byFile[l.path], n)
	}
	p := make(Params, len(located))
	var buf []byte
	for _, path := range sortedKeys(byFile) {
		names := byFile[path]
		sort.Slice(names, func(i, j int) bool { return located[names[i]].info.Begin < located[names[j]].info.Begin })
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			l := located[n]
			shape := shapes.Make(dtypes.Float32, l.info.Shape...)
			var t *tensors.Tensor
			if backend != nil {
				if t, err = tensors.FromShapeForBackend(backend, 0, shape); err != nil {
					f.Close()
					return nil, fmt.Errorf("%s: tensor %q: %w", path, n, err)
				}
			} else {
				t = tensors.FromShape(shape)
			}
			tensors.MustMutableFlatData(t, func(flat []float32) {
				buf, err = safetensors.ReadFloat32Into(f, l.header, l.info, flat, buf)
			})
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: safetensors: %w", path, err)
			}
			p[n] = t
		}
		f.Close()
	}
	return p, nil
}

// weightHeaders reads the headers of model.safetensors, or of every shard of
// model.safetensors.index.json (checking that each tensor sits in the shard
// the index names and appears once), and says where each tensor is.
func weightHeaders(dir string) (map[string]locatedTensor, error) {
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		h, err := safetensors.ReadHeader(single)
		if err != nil {
			return nil, err
		}
		out := make(map[string]locatedTensor, len(h.Tensors))
		for _, ti := range h.Tensors {
			out[ti.Name] = locatedTensor{path: single, header: h, info: ti}
		}
		return out, nil
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
	out := map[string]locatedTensor{}
	for _, file := range sortedKeys(byFile) {
		path := filepath.Join(dir, file)
		h, err := safetensors.ReadHeader(path)
		if err != nil {
			return nil, err
		}
		inShard := make(map[string]bool, len(h.Tensors))
		for _, ti := range h.Tensors {
			inShard[ti.Name] = true
		}
		listed := byFile[file]
		sort.Strings(listed)
		for _, name := range listed {
			if !inShard[name] {
				return nil, fmt.Errorf("%s: tensor %q is listed in the index but missing from shard %s", indexPath, name, file)
			}
		}
		for _, ti := range h.Tensors {
			if owner, ok := index.WeightMap[ti.Name]; !ok || owner != file {
				return nil, fmt.Errorf("%s: shard %s holds tensor %q that the index does not assign to it", indexPath, file, ti.Name)
			}
			out[ti.Name] = locatedTensor{path: path, header: h, info: ti}
		}
	}
	return out, nil
}

// checkConfigAgainstHeaders compares config.json with the tensors the
// weight files declare (headers only): the number of layers and the
// embedding's shape.
func checkConfigAgainstHeaders(dir string, cfg Config, located map[string]locatedTensor) error {
	layers := map[int]bool{}
	var embed []int
	for name, l := range located {
		var i int
		var rest string
		if n, _ := fmt.Sscanf(name, "model.layers.%d.%s", &i, &rest); n == 2 {
			layers[i] = true
		}
		if name == "model.embed_tokens.weight" {
			embed = l.info.Shape
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
