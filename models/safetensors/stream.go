package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/degaml/workbench/internal/atomicfile"
)

// TensorSpec names one tensor of a streamed file: its dtype (any dtype the
// reader accepts, "BF16" included) and shape. Its bytes come from a callback.
type TensorSpec struct {
	Name  string
	DType string
	Shape []int
}

// ByteSize is the number of data bytes the tensor occupies on disk (0 for an
// unsupported dtype).
func (s TensorSpec) ByteSize() int64 {
	n := int64(elemSize(s.DType))
	for _, d := range s.Shape {
		n *= int64(d)
	}
	return n
}

// WriteStream writes a safetensors file whose tensors are produced one at a
// time: fill(i, w) must write exactly specs[i].ByteSize() little-endian bytes
// of specs[i] to w. Nothing but atomicfile's write buffer is held in memory,
// so a multi-gigabyte checkpoint can be written without materialising it.
// The tensors are laid out in the order given; the write is atomic
// (internal/atomicfile: a failure leaves no file and no temporary).
func WriteStream(path string, specs []TensorSpec, metadata map[string]string, fill func(i int, w io.Writer) error) error {
	type entry struct {
		DType       string   `json:"dtype"`
		Shape       []int    `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	put := func(k string, v any) error {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if hdr.Len() > 1 {
			hdr.WriteByte(',')
		}
		hdr.Write(kb)
		hdr.WriteByte(':')
		hdr.Write(vb)
		return nil
	}
	if len(metadata) > 0 {
		if err := put(MetadataKey, metadata); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(specs))
	var off int64
	for _, s := range specs {
		if s.Name == MetadataKey || seen[s.Name] {
			return fmt.Errorf("safetensors: tensor name %q is reserved or repeated", s.Name)
		}
		seen[s.Name] = true
		if elemSize(s.DType) == 0 {
			return fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", s.Name, s.DType)
		}
		for _, d := range s.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q has negative dimension in shape %v", s.Name, s.Shape)
			}
		}
		shape := s.Shape
		if shape == nil {
			shape = []int{}
		}
		size := s.ByteSize()
		if err := put(s.Name, entry{DType: s.DType, Shape: shape, DataOffsets: [2]int64{off, off + size}}); err != nil {
			return err
		}
		off += size
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}

	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
		w.Write(lenBuf[:])
		if _, err := w.Write(hdr.Bytes()); err != nil {
			return fmt.Errorf("safetensors: writing %s: %w", path, err)
		}
		for i, s := range specs {
			cw := &countingWriter{w: w}
			if err := fill(i, cw); err != nil {
				return fmt.Errorf("safetensors: writing tensor %q: %w", s.Name, err)
			}
			if cw.n != s.ByteSize() {
				return fmt.Errorf("safetensors: tensor %q: wrote %d bytes, shape %v of %s needs %d", s.Name, cw.n, s.Shape, s.DType, s.ByteSize())
			}
		}
		return nil
	})
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
