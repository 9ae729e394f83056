package engine

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
)

func TestResolvePrecedence(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	if got := Resolve("go:parallelism=2"); got != "go:parallelism=2" {
		t.Errorf("explicit config lost: %q", got)
	}
	if got := Resolve(""); got != "go:ops_sequential" {
		t.Errorf("env not used: %q", got)
	}
	t.Setenv("GOMLX_BACKEND", "")
	if got := Resolve(""); got != DefaultConfig {
		t.Errorf("default not used: %q", got)
	}
}

func TestXLAWithoutTagIsClearError(t *testing.T) {
	if XLA {
		t.Skip("built with -tags xla")
	}
	_, err := New("xla:/nonexistent/plugin.so")
	if err == nil || !strings.Contains(err.Error(), "-tags xla") {
		t.Fatalf("want a rebuild hint, got %v", err)
	}
	if _, err := New("nosuch"); err == nil {
		t.Fatal("unknown backend accepted")
	}
}

func TestDefaultBackendComputes(t *testing.T) {
	b, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	out := graph.MustExecOnce(b, func(x *graph.Node) *graph.Node {
		return graph.ReduceAllSum(graph.Mul(x, x))
	}, []float32{1, 2, 3})
	if v := out.Value().(float32); v != 14 {
		t.Fatalf("1+4+9 = %v, want 14", v)
	}
	if !SkipsIdentityTransposes(b) {
		t.Error("New(\"\") should wrap the go backend with SkipIdentityTransposes")
	}
	plain, err := NewPlain("go")
	if err != nil {
		t.Fatal(err)
	}
	if SkipsIdentityTransposes(plain) || !SkipsIdentityTransposes(SkipIdentityTransposes(plain)) {
		t.Error("NewPlain must not wrap; SkipIdentityTransposes must")
	}
	if SkipIdentityTransposes(b) != b {
		t.Error("wrapping twice")
	}
}
