package mkcheckpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/safetensors"
)

// Options control Write.
type Options struct {
	Seed uint64
	// MaxShardBytes splits the weights into model-0000i-of-0000n.safetensors
	// files plus model.safetensors.index.json once they exceed it (0: 2 GiB,
	// so the 1B shapes are sharded as large hub checkpoints are).
	MaxShardBytes int64
}

// Write writes a random checkpoint of shape s into dir (created if needed):
// config.json, BF16 weights (N(0, 0.02²) matrices, unit norms, zero biases),
// tokenizer.json and tokenizer_config.json. Tensors are generated and written
// one at a time, so memory stays small whatever the shape.
func Write(dir string, s Shape, opt Options) error {
	cfgJSON, err := json.MarshalIndent(s.Config, "", "  ")
	if err != nil {
		return err
	}
	// The loader's own parser decides the tensor list: what is written is
	// exactly what LoadHF expects for this config. Rope scaling changes no
	// tensor (and the engine does not implement llama3 scaling yet), so the
	// shapes are derived without it; config.json keeps it as published.
	shapeCfg := make(map[string]any, len(s.Config))
	for k, v := range s.Config {
		if k != "rope_scaling" {
			shapeCfg[k] = v
		}
	}
	b, err := json.Marshal(shapeCfg)
	if err != nil {
		return err
	}
	cfg, err := models.ParseHFConfig(b, s.Name+" config.json")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "config.json"), append(cfgJSON, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeWeights(dir, cfg, opt); err != nil {
		return err
	}
	return writeTokenizer(dir, s, cfg.VocabSize)
}

func writeWeights(dir string, cfg models.Config, opt Options) error {
	shapes := models.ParamShapes(cfg)
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	maxShard := opt.MaxShardBytes
	if maxShard <= 0 {
		maxShard = 2 << 30
	}
	// Greedy packing in name order, as transformers' shard_checkpoint does.
	var shards [][]safetensors.TensorSpec
	var cur []safetensors.TensorSpec
	var curBytes, total int64
	for _, n := range names {
		spec := safetensors.TensorSpec{Name: n, DType: "BF16", Shape: shapes[n]}
		if len(cur) > 0 && curBytes+spec.ByteSize() > maxShard {
			shards = append(shards, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, spec)
		curBytes += spec.ByteSize()
		total += spec.ByteSize()
	}
	shards = append(shards, cur)
	// One stream, drawn in name order: the weights do not depend on sharding.
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6d6b636b7074))
	meta := map[string]string{"format": "pt"}
	if len(shards) == 1 {
		return safetensors.WriteStream(filepath.Join(dir, "model.safetensors"), shards[0], meta, fillFunc(shards[0], rng))
	}
	weightMap := map[string]string{}
	for i, specs := range shards {
		file := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := safetensors.WriteStream(filepath.Join(dir, file), specs, meta, fillFunc(specs, rng)); err != nil {
			return err
		}
		for _, s := range specs {
			weightMap[s.Name] = file
		}
	}
	index, err := json.MarshalIndent(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), append(index, '\n'), 0o644)
}

// fillFunc draws each tensor: 1-D norm weights are 1, 1-D biases 0,
// matrices N(0, 0.02²) (HF's initializer_range), rounded to BF16.
func fillFunc(specs []safetensors.TensorSpec, rng *rand.Rand) func(int, io.Writer) error {
	buf := make([]byte, 1<<16)
	return func(i int, w io.Writer) error {
		s := specs[i]
		n := int(s.ByteSize() / 2)
		norm := len(s.Shape) == 1 && strings.HasSuffix(s.Name, "norm.weight")
		bias := len(s.Shape) == 1 && !norm
		for done := 0; done < n; {
			k := min(n-done, len(buf)/2)
			for j := range k {
				var v float32
				switch {
				case norm:
					v = 1
				case bias:
					v = 0
				default:
					v = float32(rng.NormFloat64() * 0.02)
				}
				binary.LittleEndian.PutUint16(buf[2*j:], toBF16(v))
			}
			if _, err := w.Write(buf[:2*k]); err != nil {
				return err
			}
			done += k
		}
		return nil
	}
}

// toBF16 rounds a float32 to bfloat16 (round to nearest even), as torch does.
func toBF16(v float32) uint16 {
	b := math.Float32bits(v)
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
