package models

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/degaml/workbench/internal/testref"
)

// Loading into a backend gives the same weights, held in buffers the backend
// shares (no host copy to transfer later), and the same generation.
func TestLoadHFIntoBackendSharesBuffers(t *testing.T) {
	dir := filepath.Join(testref.Dir(t), "tiny-qwen2")
	be := testref.Backend(t)
	host, err := LoadHF(dir)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := LoadHFWith(dir, LoadOptions{Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(host.Params.Names(), shared.Params.Names()) {
		t.Fatalf("names differ: %v vs %v", host.Params.Names(), shared.Params.Names())
	}
	for _, n := range host.Params.Names() {
		if host.Params[n].IsShared() || !shared.Params[n].IsShared() {
			t.Fatalf("%s: shared %v (host load) / %v (backend load)", n, host.Params[n].IsShared(), shared.Params[n].IsShared())
		}
		if !slices.Equal(host.Params.Float32s(n), shared.Params.Float32s(n)) {
			t.Fatalf("%s differs between host and backend loads", n)
		}
	}
	prompt := host.Tokenizer.Encode("Hello there")
	opt := GenerateOptions{MaxNew: 5, Greedy: true}
	a, err := NewGenerator(be, host).Generate(context.Background(), prompt, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewGenerator(be, shared).Generate(context.Background(), prompt, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.IDs, b.IDs) {
		t.Errorf("generation differs: %v vs %v", a.IDs, b.IDs)
	}
}
