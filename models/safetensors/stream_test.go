package safetensors

import (
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// WriteStream's BF16 tensors read back through ReadFile and ReadFloat32Into
// (through a staging buffer smaller than the tensor), and a fill callback
// that writes the wrong number of bytes is an error that leaves no file.
func TestWriteStreamRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	want := map[string][]float32{"a": {1, -2, 0.5, 3}, "b": {0.25}}
	specs := []TensorSpec{{Name: "a", DType: "BF16", Shape: []int{2, 2}}, {Name: "b", DType: "F32", Shape: []int{1}}}
	err := WriteStream(path, specs, map[string]string{"format": "pt"}, func(i int, w io.Writer) error {
		for _, v := range want[specs[i].Name] {
			if specs[i].DType == "BF16" {
				binary.Write(w, binary.LittleEndian, uint16(math.Float32bits(v)>>16)) // exact for these values
			} else {
				binary.Write(w, binary.LittleEndian, math.Float32bits(v))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || ts["a"].DType != "BF16" || !slices.Equal(ts["a"].Shape, []int{2, 2}) {
		t.Errorf("header: %v %+v", meta, ts["a"])
	}
	for n, v := range want {
		if !slices.Equal(ts[n].F32, v) {
			t.Errorf("%s = %v, want %v", n, ts[n].F32, v)
		}
	}
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	dst := make([]float32, 4)
	if _, err := ReadFloat32Into(f, h, h.Tensors[0], dst, make([]byte, readChunk)); err != nil || !slices.Equal(dst, want["a"]) {
		t.Errorf("ReadFloat32Into: %v %v", dst, err)
	}

	bad := filepath.Join(dir, "bad.safetensors")
	err = WriteStream(bad, specs, nil, func(i int, w io.Writer) error { _, err := w.Write([]byte{1, 2}); return err })
	if err == nil || !strings.Contains(err.Error(), "wrote 2 bytes") {
		t.Errorf("short tensor: %v", err)
	}
	if _, statErr := os.Stat(bad); statErr == nil {
		t.Error("a failed WriteStream left its file")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A NaN in a BF16 tensor is found while streaming, naming the tensor and element.
func TestReadFloat32IntoRejectsNaN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	specs := []TensorSpec{{Name: "w", DType: "BF16", Shape: []int{3}}}
	WriteStream(path, specs, nil, func(int, io.Writer) error { return nil })
	err := WriteStream(path, specs, nil, func(_ int, w io.Writer) error {
		_, err := w.Write([]byte{0, 0x3f, 0xc0, 0x7f, 0, 0}) // 0.5, NaN, 0
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ReadHeader(path)
	f, _ := os.Open(path)
	defer f.Close()
	_, err = ReadFloat32Into(f, h, h.Tensors[0], make([]float32, 3), nil)
	if err == nil || !strings.Contains(err.Error(), `"w": element 1 of 3`) {
		t.Errorf("NaN: %v", err)
	}
}
