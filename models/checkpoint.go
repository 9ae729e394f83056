package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/degaml/workbench/models/tokenizer"
)

// Checkpoint is a training snapshot of one of the workbench's own models.
type Checkpoint struct {
	Config    Config
	Tokenizer string // tokenizer name, e.g. "byte"
	Step      int64
	Metadata  map[string]string
	Weights   Params
	// Optimizer holds optimizer state as named tensors (e.g. Adam moments); nil when not saved.
	Optimizer Params
}

// CheckpointFormat identifies the manifest of a workbench checkpoint.
const CheckpointFormat = "degaml-workbench-checkpoint/1"

// Files inside a checkpoint directory.
const (
	CheckpointManifest  = "manifest.json"
	checkpointWeights   = "weights.safetensors"
	checkpointOptimizer = "optimizer.safetensors"
)

type ckptFile struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

type ckptManifest struct {
	Format    string              `json:"format"`
	Config    Config              `json:"config"`
	Tokenizer string              `json:"tokenizer"`
	Step      int64               `json:"step"`
	Metadata  map[string]string   `json:"metadata,omitempty"`
	Files     map[string]ckptFile `json:"files"`
}

// SaveCheckpoint writes c to dir so that a crash at any moment leaves a loadable checkpoint: everything is
// written and fsynced into dir+".tmp", then the previous checkpoint is moved to dir+".old", the new one renamed
// into place, and only then the old one removed. LoadCheckpoint falls back to dir+".old" when dir is missing.
func SaveCheckpoint(dir string, c *Checkpoint) error {
	dir = filepath.Clean(dir)
	tmp, old := dir+".tmp", dir+".old"
	if err := os.RemoveAll(tmp); err != nil { // a crashed earlier save
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	man := ckptManifest{Format: CheckpointFormat, Config: c.Config, Tokenizer: c.Tokenizer, Step: c.Step,
		Metadata: c.Metadata, Files: map[string]ckptFile{}}
	write := func(name string, p Params) error {
		ts, err := paramsToSafetensors(p)
		if err != nil {
			return err
		}
		path := filepath.Join(tmp, name)
		if err := safetensors.Write(path, ts, map[string]string{"format": "pt"}); err != nil {
			return err
		}
		sum, size, err := FileSHA256(path)
		if err != nil {
			return err
		}
		man.Files[name] = ckptFile{SHA256: sum, Size: size}
		return nil
	}
	if err := write(checkpointWeights, c.Weights); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if c.Optimizer != nil {
		if err := write(checkpointOptimizer, c.Optimizer); err != nil {
			return fmt.Errorf("checkpoint %s: %w", dir, err)
		}
	}
	js, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, CheckpointManifest), js, 0o644); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return err
	}
	// Swap: the new checkpoint is complete on disk before the old one is touched.
	parent := filepath.Dir(dir)
	if _, err := os.Stat(dir); err == nil {
		if err := os.RemoveAll(old); err != nil {
			return err
		}
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// LoadCheckpoint reads and verifies (sizes and SHA-256 of every file) a checkpoint written by SaveCheckpoint.
// If dir is missing but dir+".old" exists (a crash between the two renames of a save), the old one is loaded.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err2 := os.Stat(dir + ".old"); err2 == nil {
			dir += ".old"
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, CheckpointManifest))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var man ckptManifest
	if err := json.Unmarshal(js, &man); err != nil {
		return nil, fmt.Errorf("checkpoint %s: manifest is corrupt: %w", dir, err)
	}
	if man.Format != CheckpointFormat {
		return nil, fmt.Errorf("checkpoint %s: unknown format %q (want %q)", dir, man.Format, CheckpointFormat)
	}
	if err := man.Config.Validate(); err != nil { // before anything is sized from it
		return nil, fmt.Errorf("checkpoint %s: manifest config: %w", dir, err)
	}
	if _, ok := man.Files[checkpointWeights]; !ok {
		return nil, fmt.Errorf("checkpoint %s: manifest lists no %s", dir, checkpointWeights)
	}
	c := &Checkpoint{Config: man.Config, Tokenizer: man.Tokenizer, Step: man.Step, Metadata: man.Metadata}
	names := make([]string, 0, len(man.Files))
	for n := range man.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		want := man.Files[name]
		if filepath.Base(name) != name {
			return nil, fmt.Errorf("checkpoint %s: bad file name %q in manifest", dir, name)
		}
		path := filepath.Join(dir, name)
		sum, size, err := FileSHA256(path)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		if size != want.Size {
			return nil, fmt.Errorf("checkpoint %s: %s is %d bytes, manifest says %d (truncated or partial write)",
				dir, name, size, want.Size)
		}
		if sum != want.SHA256 {
			return nil, fmt.Errorf("checkpoint %s: %s is corrupt: SHA-256 %s, manifest says %s", dir, name, sum, want.SHA256)
		}
		ts, _, err := safetensors.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		p, err := paramsFromSafetensors(ts)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %s: %w", dir, name, err)
		}
		switch name {
		case checkpointWeights:
			c.Weights = p
		case checkpointOptimizer:
			c.Optimizer = p
		}
	}
	return c, nil
}

// FileSHA256 is a file's SHA-256 (hex) and size: the checksum every cached
// artifact's manifest records.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// paramsToSafetensors copies float32 / int32 / int64 tensors to the safetensors form.
func paramsToSafetensors(p Params) (map[string]safetensors.Tensor, error) {
	out := make(map[string]safetensors.Tensor, len(p))
	for name, t := range p {
		if t == nil {
			return nil, fmt.Errorf("tensor %q is nil", name)
		}
		dims := append([]int{}, t.Shape().Dimensions...)
		switch t.DType() {
		case dtypes.Float32:
			out[name] = safetensors.Tensor{DType: "F32", Shape: dims, F32: tensors.MustCopyFlatData[float32](t)}
		case dtypes.Int64:
			out[name] = safetensors.Tensor{DType: "I64", Shape: dims, I64: tensors.MustCopyFlatData[int64](t)}
		case dtypes.Int32:
			v := tensors.MustCopyFlatData[int32](t)
			w := make([]int64, len(v))
			for i, x := range v {
				w[i] = int64(x)
			}
			out[name] = safetensors.Tensor{DType: "I32", Shape: dims, I64: w}
		default:
			return nil, fmt.Errorf("tensor %q: dtype %s not supported in checkpoints (float32, int32, int64)", name, t.DType())
		}
	}
	return out, nil
}

func paramsFromSafetensors(ts map[string]safetensors.Tensor) (Params, error) {
	p := make(Params, len(ts))
	for name, t := range ts {
		switch {
		case t.DType == "I32":
			v := make([]int32, len(t.I64))
			for i, x := range t.I64 {
				v[i] = int32(x)
			}
			p[name] = tensors.FromFlatDataAndDimensions(v, t.Shape...)
		case t.F32 != nil || safetensors.IsFloat(t.DType):
			p[name] = tensors.FromFlatDataAndDimensions(t.F32, t.Shape...)
		case t.I64 != nil:
			p[name] = tensors.FromFlatDataAndDimensions(t.I64, t.Shape...)
		default:
			return nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, t.DType)
		}
	}
	return p, nil
}

// LoadCheckpointModel loads a checkpoint as a Model: its weights and config, and its tokenizer ("byte" is the
// built-in byte tokenizer; otherwise tokenizer.json inside the checkpoint directory, when present).
func LoadCheckpointModel(dir string) (*Model, error) {
	c, err := LoadCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	if err := CheckShapes(c.Weights, ParamShapes(c.Config), dir); err != nil {
		return nil, err
	}
	m := &Model{Config: c.Config, Params: c.Weights}
	switch {
	case c.Tokenizer == "byte":
		m.Tokenizer = tokenizer.NewByte()
	default:
		if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
			if m.Tokenizer, err = tokenizer.Load(dir); err != nil {
				return nil, fmt.Errorf("%s: tokenizer: %w", dir, err)
			}
		}
	}
	return m, nil
}
