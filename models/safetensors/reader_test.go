package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/internal/testref"
)

// build assembles a safetensors file from a raw header object and data bytes (test-only, independent of writer.go).
func build(t testing.TB, header map[string]any, data []byte) []byte {
	t.Helper()
	js, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	return append(append(out, js...), data...)
}

func TestParseDTypes(t *testing.T) {
	var data []byte
	le := binary.LittleEndian
	data = le.AppendUint32(data, math.Float32bits(1.5))   // F32 [1] @0..4
	data = le.AppendUint16(data, 0x3c00)                  // F16 1.0 @4..6
	data = le.AppendUint16(data, 0x0001)                  // F16 smallest subnormal @6..8
	data = le.AppendUint16(data, 0xc000)                  // BF16 -2.0 @8..10
	data = le.AppendUint32(data, uint32(0xffffffff))      // I32 -1 @10..14
	data = le.AppendUint64(data, uint64(1)<<40)           // I64 @14..22
	data = le.AppendUint64(data, math.Float64bits(-0.25)) // F64 @22..30
	file := build(t, map[string]any{
		"a":            map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0, 4}},
		"h":            map[string]any{"dtype": "F16", "shape": []int{2}, "data_offsets": []int{4, 8}},
		"b":            map[string]any{"dtype": "BF16", "shape": []int{}, "data_offsets": []int{8, 10}},
		"i":            map[string]any{"dtype": "I32", "shape": []int{1, 1}, "data_offsets": []int{10, 14}},
		"l":            map[string]any{"dtype": "I64", "shape": []int{1}, "data_offsets": []int{14, 22}},
		"d":            map[string]any{"dtype": "F64", "shape": []int{1}, "data_offsets": []int{22, 30}},
		"e":            map[string]any{"dtype": "F32", "shape": []int{0, 3}, "data_offsets": []int{30, 30}},
		"__metadata__": map[string]string{"format": "pt"},
	}, data)
	ts, md, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if md["format"] != "pt" {
		t.Errorf("metadata = %v", md)
	}
	check := func(name string, want float32) {
		t.Helper()
		if got := ts[name].F32; len(got) == 0 || got[0] != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("a", 1.5)
	check("h", 1)
	if got := ts["h"].F32[1]; got != float32(math.Ldexp(1, -24)) {
		t.Errorf("f16 subnormal = %g", got)
	}
	check("b", -2)
	check("d", -0.25)
	if ts["i"].I64[0] != -1 || ts["l"].I64[0] != 1<<40 {
		t.Errorf("ints = %v %v", ts["i"].I64, ts["l"].I64)
	}
	if len(ts["b"].Shape) != 0 || ts["b"].DType != "BF16" || len(ts["e"].F32) != 0 {
		t.Errorf("scalar/empty handling: %+v %+v", ts["b"], ts["e"])
	}
}

func TestF16Special(t *testing.T) {
	if v := F16ToF32(0x7c00); !math.IsInf(float64(v), 1) {
		t.Errorf("+inf -> %v", v)
	}
	if v := F16ToF32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("nan -> %v", v)
	}
	if v := F16ToF32(0x7bff); v != 65504 {
		t.Errorf("max half -> %v", v)
	}
	if v := F16ToF32(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("-0 -> %v", v)
	}
	if v := F16ToF32(0x03ff); v != float32(1023*math.Ldexp(1, -24)) {
		t.Errorf("largest subnormal -> %v", v)
	}
}

func TestParseErrors(t *testing.T) {
	four := make([]byte, 4)
	cases := map[string]struct {
		header map[string]any
		want   string
	}{
		"offsets past end": {map[string]any{"x": map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0, 8}}}, "outside"},
		"span mismatch":    {map[string]any{"x": map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0, 4}}}, "needs"},
		"negative dim":     {map[string]any{"x": map[string]any{"dtype": "F32", "shape": []int{-1}, "data_offsets": []int{0, 4}}}, "negative"},
		"overflow":         {map[string]any{"x": map[string]any{"dtype": "F32", "shape": []int64{1 << 40, 1 << 40}, "data_offsets": []int{0, 4}}}, "overflows"},
		"bad dtype":        {map[string]any{"x": map[string]any{"dtype": "Q4", "shape": []int{1}, "data_offsets": []int{0, 4}}}, "unsupported dtype"},
		"unknown field":    {map[string]any{"x": map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{0, 4}, "zzz": 1}}, "bad header entry"},
		"bad metadata":     {map[string]any{"__metadata__": map[string]any{"k": 1}}, "__metadata__"},
	}
	for name, c := range cases {
		_, _, err := Parse(build(t, c.header, four))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want containing %q", name, err, c.want)
		}
	}
	huge := binary.LittleEndian.AppendUint64(nil, math.MaxUint64)
	if _, _, err := Parse(huge); err == nil {
		t.Error("huge header length accepted")
	}
}

func TestReadReference(t *testing.T) {
	dir := testref.Dir(t)
	ts, md, err := ReadFile(filepath.Join(dir, "tiny-llama", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if md["format"] != "pt" {
		t.Errorf("metadata = %v", md)
	}
	w := ts["model.layers.0.self_attn.k_proj.weight"]
	if w.DType != "F32" || len(w.Shape) != 2 || w.Shape[0] != 32 || w.Shape[1] != 64 || len(w.F32) != 32*64 {
		t.Errorf("k_proj = %s %v (%d values)", w.DType, w.Shape, len(w.F32))
	}
	ref, _, err := ReadFile(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ids := ref["qwen2.support_ids"]
	if ids.DType != "I64" || len(ids.I64) != 32 || ids.F32 != nil {
		t.Errorf("support_ids = %s %v", ids.DType, ids.Shape)
	}
}

// FuzzParseHeader checks that arbitrary bytes never panic, and that accepted files satisfy the invariants the
// rest of the reader relies on.
func FuzzParseHeader(f *testing.F) {
	ok := build(f, map[string]any{
		"w":            map[string]any{"dtype": "BF16", "shape": []int{2}, "data_offsets": []int{0, 4}},
		"__metadata__": map[string]string{"a": "b"},
	}, []byte{0, 0x3f, 0, 0xc0})
	f.Add(ok)
	f.Add([]byte{})
	f.Add(make([]byte, 8))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 4), "null"...))
	f.Add(build(f, map[string]any{"x": map[string]any{"dtype": "I64", "shape": []int{1 << 62, 4}, "data_offsets": []int{0, 8}}}, make([]byte, 8)))
	// Issue 13: overlapping data_offsets.
	f.Add(build(f, map[string]any{
		"a": map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0, 8}},
		"b": map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{4, 12}},
	}, make([]byte, 12)))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(data, int64(len(data)))
		ts, _, perr := Parse(data)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ParseHeader err=%v but Parse err=%v", err, perr)
		}
		if err != nil {
			return
		}
		for i, ti := range h.Tensors {
			for _, o := range h.Tensors[:i] {
				if ti.Begin < ti.End && o.Begin < o.End && ti.Begin < o.End && o.Begin < ti.End {
					t.Fatalf("tensors %q and %q overlap", o.Name, ti.Name)
				}
			}
			if h.DataOffset+ti.End > int64(len(data)) {
				t.Fatalf("tensor %q ends past the file", ti.Name)
			}
			n := 1
			for _, d := range ti.Shape {
				n *= d
			}
			got := ts[ti.Name]
			if len(got.F32)+len(got.I64) != n {
				t.Fatalf("tensor %q: %d values for shape %v", ti.Name, len(got.F32)+len(got.I64), ti.Shape)
			}
		}
	})
}
