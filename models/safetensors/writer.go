package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
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

	type entry struct {
		DType       string   `json:"dtype"`
		Shape       []int    `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	first := true
	writeKV := func(k string, v any) error {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !first {
			hdr.WriteByte(',')
		}
		first = false
		hdr.Write(kb)
		hdr.WriteByte(':')
		hdr.Write(vb)
		return nil
	}
	if len(metadata) > 0 {
		if err := writeKV(MetadataKey, metadata); err != nil {
			return err
		}
	}
	dtypes := make([]string, len(names))
	var off int64
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
		dtypes[i] = dt
		size := int64(numel * elemSize(dt))
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		if err := writeKV(n, entry{DType: dt, Shape: shape, DataOffsets: [2]int64{off, off + size}}); err != nil {
			return err
		}
		off += size
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}

	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	w.Write(lenBuf[:])
	w.Write(hdr.Bytes())
	var b [8]byte
	for i, n := range names {
		t := ts[n]
		switch dtypes[i] {
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
					return fmt.Errorf("safetensors: tensor %q: value %d does not fit I32", n, v)
				}
				binary.LittleEndian.PutUint32(b[:4], uint32(int32(v)))
				w.Write(b[:4])
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("safetensors: fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so a rename inside it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
