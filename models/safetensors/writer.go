package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
)

// Write stores ts (and optional string metadata) as a safetensors file at path.
//
// Supported dtypes: "F32" (from Tensor.F32), "I64" and "I32" (from Tensor.I64); an empty DType is taken from
// whichever slice is set. Tensors are laid out in name order, and the JSON header is padded with spaces to a
// multiple of 8 bytes as the reference implementation does, so the data section stays aligned for mmap.
//
// The write is atomic: the bytes go to a temporary file in the same directory, which is fsynced and then
// renamed over path, so readers see either the old file or the complete new one, never a torn one.
func Write(path string, ts map[string]Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(ts))
	for n := range ts {
		if n == MetadataKey {
			return fmt.Errorf("safetensors: %q is reserved for metadata", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)

	// Check every tensor before the first byte is written, then let
	// WriteStream do the header, the layout and the atomic write.
	specs := make([]TensorSpec, len(names))
	for i, n := range names {
		t := ts[n]
		dt := t.DType
		if dt == "" {
			dt = "F32"
			if t.F32 == nil && t.I64 != nil {
				dt = "I64"
			}
		}
		numel := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q has negative dimension in shape %v", n, t.Shape)
			}
			numel *= d
		}
		var have int
		switch dt {
		case "F32":
			have = len(t.F32)
		case "I64", "I32":
			have = len(t.I64)
		default:
			return fmt.Errorf("safetensors: writing dtype %q (tensor %q) is not supported (F32, I64, I32)", dt, n)
		}
		if have != numel {
			return fmt.Errorf("safetensors: tensor %q: shape %v needs %d values, has %d", n, t.Shape, numel, have)
		}
		specs[i] = TensorSpec{Name: n, DType: dt, Shape: t.Shape}
	}
	return WriteStream(path, specs, metadata, func(i int, w io.Writer) error {
		t := ts[names[i]]
		var b [8]byte
		switch specs[i].DType {
		case "F32":
			for _, v := range t.F32 {
				binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
				w.Write(b[:4])
			}
		case "I64":
			for _, v := range t.I64 {
				binary.LittleEndian.PutUint64(b[:], uint64(v))
				w.Write(b[:])
			}
		case "I32":
			for _, v := range t.I64 {
				if v < math.MinInt32 || v > math.MaxInt32 {
					return fmt.Errorf("value %d does not fit I32", v)
				}
				binary.LittleEndian.PutUint32(b[:4], uint32(int32(v)))
				w.Write(b[:4])
			}
		}
		return nil
	})
}
