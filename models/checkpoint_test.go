package models

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func testCheckpoint(t *testing.T, step int64) *Checkpoint {
	t.Helper()
	cfg, err := PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	w := NewRandom(cfg, step)
	opt := Params{
		"adam.m/model.norm.weight": tensors.FromFlatDataAndDimensions(make([]float32, cfg.HiddenSize), cfg.HiddenSize),
		"adam.step":                tensors.FromFlatDataAndDimensions([]int64{step}),
	}
	return &Checkpoint{Config: cfg, Tokenizer: "byte", Step: step, Weights: w, Optimizer: opt,
		Metadata: map[string]string{"phase": "pretrain"}}
}

func checkSame(t *testing.T, got, want *Checkpoint) {
	t.Helper()
	if got.Config != want.Config || got.Tokenizer != want.Tokenizer || got.Step != want.Step ||
		got.Metadata["phase"] != want.Metadata["phase"] {
		t.Fatalf("header mismatch: got %+v / %s / %d / %v", got.Config, got.Tokenizer, got.Step, got.Metadata)
	}
	if !slices.Equal(got.Weights.Names(), want.Weights.Names()) {
		t.Fatalf("weight names differ")
	}
	for _, n := range want.Weights.Names() {
		if !slices.Equal(got.Weights.Float32s(n), want.Weights.Float32s(n)) {
			t.Fatalf("weight %s differs", n)
		}
		if !slices.Equal(got.Weights[n].Shape().Dimensions, want.Weights[n].Shape().Dimensions) {
			t.Fatalf("weight %s shape differs", n)
		}
	}
	if s := tensors.MustCopyFlatData[int64](got.Optimizer["adam.step"]); s[0] != want.Step {
		t.Fatalf("optimizer step %v", s)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	c1 := testCheckpoint(t, 1)
	if err := SaveCheckpoint(dir, c1); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, c1)
	// Overwrite with a newer one: no .tmp/.old left, newest loads.
	c2 := testCheckpoint(t, 2)
	if err := SaveCheckpoint(dir, c2); err != nil {
		t.Fatal(err)
	}
	got, err = LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, c2)
	for _, suf := range []string{".tmp", ".old"} {
		if _, err := os.Stat(dir + suf); !os.IsNotExist(err) {
			t.Errorf("%s left behind", dir+suf)
		}
	}
}

func TestCheckpointCorruption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := SaveCheckpoint(dir, testCheckpoint(t, 3)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, checkpointWeights)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// One flipped byte in the middle of the tensor data.
	bad := slices.Clone(data)
	bad[len(bad)/2] ^= 0x40
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("flipped byte: got %v, want a corruption error", err)
	}
	// Truncated file.
	if err := os.WriteFile(path, data[:len(data)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: got %v, want a truncation error", err)
	}
}

func TestCheckpointCrashRecovery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	c1 := testCheckpoint(t, 5)
	if err := SaveCheckpoint(dir, c1); err != nil {
		t.Fatal(err)
	}
	// Crash while writing the next one: a half-written dir.tmp is left behind.
	if err := os.MkdirAll(dir+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir+".tmp", checkpointWeights), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, c1)
	// Crash between "rename dir → dir.old" and "rename dir.tmp → dir": only dir.old holds a good checkpoint.
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	got, err = LoadCheckpoint(dir)
	if err != nil {
		t.Fatalf("recovery from .old: %v", err)
	}
	checkSame(t, got, c1)
	// The next save cleans up and succeeds.
	c2 := testCheckpoint(t, 6)
	if err := SaveCheckpoint(dir, c2); err != nil {
		t.Fatal(err)
	}
	if got, err = LoadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, c2)
}

func TestPresets(t *testing.T) {
	ps := Presets()
	if len(ps) < 3 || ps[0].Name != "nano-word" || ps[1].Name != "nano" || ps[2].Name != "micro" {
		t.Fatalf("presets %v", ps)
	}
	if ps[0].Tokenizer != "word" || ps[0].Config.VocabSize != WordVocabSize || ps[1].Tokenizer != "byte" {
		t.Fatalf("preset tokenizers %v", ps)
	}
	for _, p := range ps {
		if err := p.Config.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		// The count must agree with the shapes the model actually allocates.
		var n int64
		for _, s := range ParamShapes(p.Config) {
			k := int64(1)
			for _, d := range s {
				k *= int64(d)
			}
			n += k
		}
		if n != p.Params {
			t.Errorf("%s: Params %d, shapes give %d", p.Name, p.Params, n)
		}
	}
	// Hand count for nano: embed+head 2·259·128, per layer q,o 2·128² + k,v 2·128·64 + mlp 3·128·384 + 2 norms.
	if want := int64(2*259*128 + 2*(2*128*128+2*128*64+3*128*384+2*128) + 128); ps[1].Params != want {
		t.Errorf("nano params %d, want %d", ps[1].Params, want)
	}
	// nano-word: the same shape with a 256-word vocabulary and a 352-wide MLP.
	if want := int64(2*256*128 + 2*(2*128*128+2*128*64+3*128*352+2*128) + 128); ps[0].Params != want {
		t.Errorf("nano-word params %d, want %d", ps[0].Params, want)
	}
	if ps[2].Params < 3_000_000 || ps[2].Params > 5_000_000 {
		t.Errorf("micro params %d not in 3–5M", ps[2].Params)
	}
	if _, err := PresetConfig("huge"); err == nil {
		t.Error("unknown preset accepted")
	}
}
