package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// make-random then measure, end to end at a toy shape: every phase reports
// a positive time and the loaded model is the generated one.
func TestModelsMakeRandomAndMeasure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	var out bytes.Buffer
	if err := runCmd(&out, "models", "make-random", "--shape", "tiny-qwen2", "--out", dir, "--seed", "3"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "wrote tiny-qwen2") {
		t.Errorf("make-random said %q", out.String())
	}
	out.Reset()
	if err := runCmd(&out, "models", "measure", "--model", dir, "--prompt-tokens", "8", "--new", "3", "--lora-batch", "2x16", "--json"); err != nil {
		t.Fatal(err)
	}
	var r measureResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Params <= 0 {
		t.Errorf("params %d", r.Params)
	}
	for name, v := range map[string]float64{"load": r.LoadS, "first token": r.FirstTokenS, "decode": r.DecodeTokPerS,
		"lora step": r.LoRAStepS, "peak rss": r.PeakRSSMB} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	for _, bad := range [][]string{{"--shape", "gpt-5", "--out", dir}, {"--shape", "tiny-qwen2"}} {
		if err := runCmd(&out, append([]string{"models", "make-random"}, bad...)...); err == nil {
			t.Errorf("make-random %v: no error", bad)
		}
	}
	if err := runCmd(&out, "models", "measure", "--model", dir, "--lora-batch", "2by16"); err == nil || !strings.Contains(err.Error(), "want BxT") {
		t.Errorf("bad --lora-batch: %v", err)
	}
}

func TestModelsJSON(t *testing.T) {
	var out bytes.Buffer
	if err := runCmd(&out, "models", "--json"); err != nil {
		t.Fatal(err)
	}
	var ps []struct {
		Name   string `json:"name"`
		Params int64  `json:"params"`
	}
	if err := json.Unmarshal(out.Bytes(), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Name != "nano-word" || ps[1].Name != "nano" || ps[1].Params != 460160 || ps[2].Name != "micro" {
		t.Errorf("presets %+v", ps)
	}
}
