package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// DecodeFloat32 widens the little-endian bytes b of a float dtype into dst
// (len(dst) == len(b)/elemSize(dtype)).
func DecodeFloat32(dtype string, b []byte, dst []float32) {
	le := binary.LittleEndian
	switch dtype {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case "F16":
		for i := range dst {
			dst[i] = F16ToF32(le.Uint16(b[2*i:]))
		}
	case "BF16":
		for i := range dst { // bfloat16 is the top half of a float32
			dst[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	}
}

// readChunk bounds the staging buffer of ReadFloat32Into: weights stream
// from the file into their destination through it, never whole.
const readChunk = 4 << 20

// ReadFloat32Into reads float tensor ti of the file behind r (whose header is
// h) straight into dst, widening it to float32 chunk by chunk: no copy of the
// tensor is ever made besides dst itself. buf is a reusable staging buffer
// (nil allocates one). A NaN or ±Inf element is an error naming the tensor.
func ReadFloat32Into(r io.ReaderAt, h *Header, ti TensorInfo, dst []float32, buf []byte) ([]byte, error) {
	size := elemSize(ti.DType)
	if !IsFloat(ti.DType) || size == 0 {
		return buf, fmt.Errorf("tensor %q has dtype %s, want a float dtype", ti.Name, ti.DType)
	}
	if int64(len(dst))*int64(size) != ti.End-ti.Begin {
		return buf, fmt.Errorf("tensor %q: %d bytes on disk for %d destination values", ti.Name, ti.End-ti.Begin, len(dst))
	}
	if len(buf) < readChunk {
		buf = make([]byte, readChunk)
	}
	per := len(buf) / size
	for done := 0; done < len(dst); {
		n := min(per, len(dst)-done)
		b := buf[:n*size]
		if _, err := r.ReadAt(b, h.DataOffset+ti.Begin+int64(done*size)); err != nil {
			return buf, fmt.Errorf("reading tensor %q: %w", ti.Name, err)
		}
		out := dst[done : done+n]
		DecodeFloat32(ti.DType, b, out)
		for i, v := range out {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return buf, fmt.Errorf("tensor %q: element %d of %d is %v (damaged or diverged weights)", ti.Name, done+i, len(dst), v)
			}
		}
		done += n
	}
	return buf, nil
}
