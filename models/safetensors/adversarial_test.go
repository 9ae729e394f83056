package safetensors

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13: overlapping data_offsets loaded silently (two tensors sharing
// bytes); they are refused naming both tensors.
func TestOverlappingOffsetsRejected(t *testing.T) {
	data := make([]byte, 16)
	h := map[string]any{
		"a": map[string]any{"dtype": "F32", "shape": []int{3}, "data_offsets": []int{0, 12}},
		"b": map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{8, 16}},
	}
	_, _, err := Parse(build(t, h, data))
	if err == nil || !strings.Contains(err.Error(), "overlap") || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("overlap: %v", err)
	}
	// Adjacent and empty tensors are fine.
	h["b"] = map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{12, 16}}
	h["e"] = map[string]any{"dtype": "F32", "shape": []int{0}, "data_offsets": []int{4, 4}}
	if _, _, err := Parse(build(t, h, data)); err != nil {
		t.Errorf("adjacent tensors: %v", err)
	}
}

func TestNonFiniteWeightsRejectedAtLoad(t *testing.T) {
	for name, v := range map[string]float32{"nan": float32(math.NaN()), "inf": float32(math.Inf(-1))} {
		p := filepath.Join(t.TempDir(), "w.safetensors")
		in := map[string]Tensor{"ok": {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}},
			"model.bad": {DType: "F32", Shape: []int{3}, F32: []float32{1, v, 3}}}
		if err := Write(p, in, nil); err != nil {
			t.Fatal(err)
		}
		_, _, err := ReadFile(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"model.bad"`) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
}
