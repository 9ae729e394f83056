package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// TensorInfo describes one tensor of a parsed header. Begin and End are byte offsets relative to the start of
// the data section (just after the header).
type TensorInfo struct {
	Name       string
	DType      string
	Shape      []int
	Begin, End int64
}

// Header is a parsed and validated safetensors header.
type Header struct {
	Tensors    []TensorInfo // sorted by name
	Metadata   map[string]string
	DataOffset int64 // absolute file offset of the data section: 8 + header length
}

type rawEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// ParseHeader parses the header at the beginning of a safetensors file of fileSize bytes. prefix must hold at
// least the first 8 bytes; it may hold more (the whole file is fine). It returns an error, never panics, for any
// input: every length, shape product and offset is checked for overflow and against fileSize.
func ParseHeader(prefix []byte, fileSize int64) (*Header, error) {
	if len(prefix) < 8 || fileSize < 8 {
		return nil, errors.New("safetensors: file shorter than the 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(prefix[:8])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d byte limit", n, MaxHeaderSize)
	}
	if int64(n) > fileSize-8 {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the %d byte file", n, fileSize)
	}
	if int64(len(prefix)) < 8+int64(n) {
		return nil, fmt.Errorf("safetensors: need %d header bytes, got %d", 8+n, len(prefix))
	}
	js := prefix[8 : 8+n]
	dataLen := fileSize - 8 - int64(n)

	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("safetensors: header is not a JSON object: %w", err)
	}
	// The header may be padded with trailing spaces (the reference writer aligns the data to 8 bytes).
	if rest := bytes.TrimRight(js[dec.InputOffset():], " \t\r\n\x00"); len(rest) != 0 {
		return nil, errors.New("safetensors: trailing data after the JSON header")
	}
	if raw == nil {
		return nil, errors.New("safetensors: header is null, want a JSON object")
	}
	h := &Header{DataOffset: 8 + int64(n), Metadata: map[string]string{}}
	for name, msg := range raw {
		if name == MetadataKey {
			if err := json.Unmarshal(msg, &h.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: %s must map strings to strings: %w", MetadataKey, err)
			}
			if h.Metadata == nil {
				h.Metadata = map[string]string{}
			}
			continue
		}
		info, err := parseEntry(name, msg, dataLen)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, info)
	}
	if err := checkOverlap(h.Tensors); err != nil {
		return nil, err
	}
	sort.Slice(h.Tensors, func(i, j int) bool { return h.Tensors[i].Name < h.Tensors[j].Name })
	return h, nil
}

// checkOverlap refuses two tensors whose bytes overlap: writing through one
// would silently change the other, and a crafted file could alias a small
// tensor into a big one. Empty tensors occupy no bytes.
func checkOverlap(ts []TensorInfo) error {
	byBegin := make([]TensorInfo, 0, len(ts))
	for _, t := range ts {
		if t.End > t.Begin {
			byBegin = append(byBegin, t)
		}
	}
	sort.Slice(byBegin, func(i, j int) bool {
		if byBegin[i].Begin != byBegin[j].Begin {
			return byBegin[i].Begin < byBegin[j].Begin
		}
		return byBegin[i].Name < byBegin[j].Name
	})
	for i := 1; i < len(byBegin); i++ {
		a, b := byBegin[i-1], byBegin[i]
		if b.Begin < a.End {
			return fmt.Errorf("safetensors: tensors %q [%d, %d] and %q [%d, %d] overlap in the data section",
				a.Name, a.Begin, a.End, b.Name, b.Begin, b.End)
		}
	}
	return nil
}

// CheckFinite reports the first NaN or ±Inf element of a float tensor.
func CheckFinite(name string, t Tensor) error {
	for i, v := range t.F32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("tensor %q: element %d of %d is %v (damaged or diverged weights)", name, i, len(t.F32), v)
		}
	}
	return nil
}

func parseEntry(name string, msg json.RawMessage, dataLen int64) (TensorInfo, error) {
	var e rawEntry
	d := json.NewDecoder(bytes.NewReader(msg))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: bad header entry: %w", name, err)
	}
	size := elemSize(e.DType)
	if size == 0 {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", name, e.DType)
	}
	if e.Shape == nil {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: missing shape", name)
	}
	if len(e.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: data_offsets must be [begin, end]", name)
	}
	// numel*size is bounded by dataLen (checked per step), so it cannot overflow int64.
	numel := int64(1)
	shape := make([]int, len(e.Shape))
	for i, dim := range e.Shape {
		if dim < 0 {
			return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: negative dimension %d", name, dim)
		}
		if dim != 0 && numel > math.MaxInt64/dim {
			return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, e.Shape)
		}
		numel *= dim
		shape[i] = int(dim)
	}
	if numel > math.MaxInt64/int64(size) || numel*int64(size) > dataLen {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: shape %v needs more bytes than the file holds", name, e.Shape)
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin || end > dataLen {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside the %d byte data section", name, begin, end, dataLen)
	}
	if end-begin != numel*int64(size) {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: data_offsets span %d bytes, shape %v of %s needs %d", name, end-begin, e.Shape, e.DType, numel*int64(size))
	}
	return TensorInfo{Name: name, DType: e.DType, Shape: shape, Begin: begin, End: end}, nil
}

// Parse decodes a whole safetensors file held in memory.
func Parse(data []byte) (map[string]Tensor, map[string]string, error) {
	h, err := ParseHeader(data, int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]Tensor, len(h.Tensors))
	for _, ti := range h.Tensors {
		out[ti.Name] = Decode(ti.DType, ti.Shape, data[h.DataOffset+ti.Begin:h.DataOffset+ti.End])
	}
	return out, h.Metadata, nil
}

// ReadHeader reads and validates only the header of a safetensors file: what
// tensors it holds and their shapes, without reading (or allocating) data.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := readHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func readHeader(f *os.File) (*Header, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize || int64(n) > size-8 {
		return ParseHeader(lenBuf[:], size) // reuse its message
	}
	prefix := make([]byte, 8+n)
	copy(prefix, lenBuf[:])
	if _, err := io.ReadFull(f, prefix[8:]); err != nil {
		return nil, fmt.Errorf("safetensors: reading header: %w", err)
	}
	return ParseHeader(prefix, size)
}

// ReadFile reads every tensor of a safetensors file plus its metadata. Only the header is read up front; each
// tensor is then read and widened on its own, so peak memory stays near the widened result. Every file read
// from disk is weights, so a NaN or ±Inf element is an error naming the file and the tensor (Parse, for
// in-memory data, keeps them).
func ReadFile(path string) (map[string]Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	h, err := readHeader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]Tensor, len(h.Tensors))
	for _, ti := range h.Tensors {
		buf := make([]byte, ti.End-ti.Begin)
		if _, err := f.ReadAt(buf, h.DataOffset+ti.Begin); err != nil {
			return nil, nil, fmt.Errorf("%s: safetensors: reading tensor %q: %w", path, ti.Name, err)
		}
		t := Decode(ti.DType, ti.Shape, buf)
		if err := CheckFinite(ti.Name, t); err != nil {
			return nil, nil, fmt.Errorf("%s: safetensors: %w", path, err)
		}
		out[ti.Name] = t
	}
	return out, h.Metadata, nil
}

// Decode widens the raw little-endian bytes of one tensor. b must hold exactly numel*elemSize(dtype) bytes, as
// guaranteed by ParseHeader.
func Decode(dtype string, shape []int, b []byte) Tensor {
	t := Tensor{DType: dtype, Shape: append([]int{}, shape...)}
	size := elemSize(dtype)
	if size == 0 {
		return t
	}
	n := len(b) / size
	le := binary.LittleEndian
	if IsFloat(dtype) {
		t.F32 = make([]float32, n)
		DecodeFloat32(dtype, b, t.F32)
		return t
	}
	t.I64 = make([]int64, n)
	for i := range t.I64 {
		switch dtype {
		case "I8":
			t.I64[i] = int64(int8(b[i]))
		case "U8", "BOOL":
			t.I64[i] = int64(b[i])
		case "I16":
			t.I64[i] = int64(int16(le.Uint16(b[2*i:])))
		case "I32":
			t.I64[i] = int64(int32(le.Uint32(b[4*i:])))
		case "I64":
			t.I64[i] = int64(le.Uint64(b[8*i:]))
		}
	}
	return t
}

// F16ToF32 converts an IEEE 754 half-precision value, including subnormals, infinities and NaNs.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf / NaN: keep the payload
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal half → normal float32: shift until the implicit bit appears
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
