package models

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models/safetensors"
)

// tinyQwenWith writes tiny-qwen2's weights under a config.json edited by edit.
func tinyQwenWith(t *testing.T, edit func(cfg map[string]any), mutate func(map[string]safetensors.Tensor)) string {
	t.Helper()
	src := filepath.Join(testref.Dir(t), "tiny-qwen2")
	data, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	out, _ := json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	ts, _, err := safetensors.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(ts)
	}
	return writeModelDir(t, p, ts)
}

// Issue 13: a config.json with 1,000,000 layers ran on; now it is refused
// before any weight is read, and a smaller lie is caught against the headers.
func TestConfigLayersCheckedBeforeAllocation(t *testing.T) {
	for layers, want := range map[float64]string{
		1_000_000: "exceeds the 1024-layer limit",
		8:         "num_hidden_layers = 8, but the weights hold 2 layers",
	} {
		dir := tinyQwenWith(t, func(c map[string]any) { c["num_hidden_layers"] = layers }, nil)
		_, err := LoadHF(dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v layers: %v, want %q", layers, err, want)
		}
	}
	dir := tinyQwenWith(t, func(c map[string]any) { c["hidden_size"] = 1 << 20; c["intermediate_size"] = 1 << 22 }, nil)
	if _, err := LoadHF(dir); err == nil || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("a 1e13-parameter config: %v", err)
	}
}

func TestNaNWeightRejectedNamingFileAndTensor(t *testing.T) {
	dir := tinyQwenWith(t, func(map[string]any) {}, func(m map[string]safetensors.Tensor) {
		w := m["model.layers.1.mlp.down_proj.weight"]
		f := append([]float32(nil), w.F32...)
		f[3] = float32(math.NaN())
		m["model.layers.1.mlp.down_proj.weight"] = safetensors.Tensor{DType: w.DType, Shape: w.Shape, F32: f}
	})
	_, err := LoadHF(dir)
	if err == nil || !strings.Contains(err.Error(), "model.safetensors") || !strings.Contains(err.Error(), `"model.layers.1.mlp.down_proj.weight"`) {
		t.Errorf("NaN weight: %v", err)
	}
}

// `[lora] rank = 10000` on a 64-wide model climbed to 4.5 GB with no step.
func TestLoRARankMustFitTheModules(t *testing.T) {
	cfg, err := PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
	if err := LoRAFits(cfg, LoRAConfig{Rank: 4, Alpha: 8, Targets: all}); err != nil {
		t.Fatal(err)
	}
	err = LoRAFits(cfg, LoRAConfig{Rank: 10000, Alpha: 8, Targets: all})
	if err == nil || !strings.Contains(err.Error(), "exceeds") || !strings.Contains(err.Error(), "at most") {
		t.Errorf("rank 10000: %v", err)
	}
}

// A config.json that never ends (a symlink to /dev/zero, a damaged download)
// is refused at the size limit, not read into memory.
func TestEndlessConfigJSONRefused(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "config.json")); err != nil {
		t.Skip(err)
	}
	_, err := LoadHF(dir)
	if err == nil || !strings.Contains(err.Error(), "MiB limit") {
		t.Fatalf("err = %v", err)
	}
}

// A workbench checkpoint whose manifest claims a million layers took 27 s and
// 1.7 GB to fail; now the manifest's config is checked first.
func TestCheckpointManifestConfigCheckedFirst(t *testing.T) {
	cfg, err := PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ck")
	if err := SaveCheckpoint(dir, &Checkpoint{Config: cfg, Tokenizer: "byte", Weights: NewRandom(cfg, 1)}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, CheckpointManifest)
	data, _ := os.ReadFile(p)
	var man map[string]any
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	man["config"].(map[string]any)["NumLayers"] = 1_000_000
	data, _ = json.Marshal(man)
	os.WriteFile(p, data, 0o644)
	if _, err := LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "1024-layer limit") {
		t.Fatalf("err = %v", err)
	}
}
