// Package safetensors reads and writes the safetensors format (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length, a JSON header mapping tensor names to {dtype, shape, data_offsets}
// (plus an optional "__metadata__" string map), then the raw little-endian tensor bytes.
//
// Tensors are exchanged in a widened form: every float dtype (F16, BF16, F32, F64) is converted to float32 and
// every integer dtype to int64, which is what the model code consumes.
package safetensors

// Tensor is one named tensor in widened form.
//
// DType is the on-disk dtype name ("F32", "F16", "BF16", "F64", "I8", "U8", "I16", "I32", "I64"). Float dtypes
// carry their values in F32 and integer dtypes in I64 (the other slice is nil). Data is row-major; a scalar has
// an empty Shape and one element.
type Tensor struct {
	DType string
	Shape []int
	F32   []float32
	I64   []int64
}

// MetadataKey is the reserved header key holding the free-form string metadata.
const MetadataKey = "__metadata__"

// MaxHeaderSize bounds the JSON header (the reference implementation uses the same 100 MB limit), so a corrupt
// length prefix cannot make a reader allocate gigabytes.
const MaxHeaderSize = 100 << 20

// elemSize returns the byte width of a dtype, or 0 when unsupported.
func elemSize(dtype string) int {
	switch dtype {
	case "I8", "U8", "BOOL":
		return 1
	case "F16", "BF16", "I16":
		return 2
	case "F32", "I32":
		return 4
	case "F64", "I64":
		return 8
	}
	return 0
}

// IsFloat reports whether dtype is read into Tensor.F32.
func IsFloat(dtype string) bool {
	switch dtype {
	case "F16", "BF16", "F32", "F64":
		return true
	}
	return false
}
