package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	in := map[string]Tensor{
		"b.weight": {DType: "F32", Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, 1e-30}},
		"a.ids":    {DType: "I64", Shape: []int{3}, I64: []int64{-1, 0, 1 << 40}},
		"c.small":  {DType: "I32", Shape: []int{2}, I64: []int64{-7, 7}},
		"d.scalar": {Shape: []int{}, F32: []float32{42}},
	}
	meta := map[string]string{"format": "pt", "note": "x"}
	if err := Write(path, in, meta); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if n%8 != 0 {
		t.Errorf("header length %d is not 8-byte aligned", n)
	}
	// 6 F32 + 3 I64 + 2 I32 + 1 F32 = 24+24+8+4 bytes of data.
	if got := uint64(len(raw)) - 8 - n; got != 60 {
		t.Errorf("data section %d bytes, want 60", got)
	}
	// The writer keeps the Inf; ReadFile (weights from disk) refuses it, naming the tensor.
	if _, _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), `"b.weight"`) {
		t.Errorf("ReadFile accepted an Inf weight: %v", err)
	}
	out, gotMeta, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	in["d.scalar"] = Tensor{DType: "F32", Shape: []int{}, F32: []float32{42}}
	for k, want := range in {
		got, ok := out[k]
		if !ok {
			t.Fatalf("missing %q", k)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", k, got, want)
		}
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dir has %d entries, want 1", len(ents))
	}
}

func TestWriteRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "y.safetensors")
	if err := Write(p, map[string]Tensor{"x": {DType: "F32", Shape: []int{3}, F32: []float32{1}}}, nil); err == nil {
		t.Error("size mismatch accepted")
	}
	if err := Write(p, map[string]Tensor{"x": {DType: "BF16", Shape: []int{1}, F32: []float32{1}}}, nil); err == nil {
		t.Error("unsupported dtype accepted")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Error("failed write left a file")
	}
}
