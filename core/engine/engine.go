// Package engine selects and creates the compute backend.
//
// Only the pure-Go backend is linked by default (no cgo, static binary). The
// build tag `xla` adds go-xla's backend, which loads a PJRT plugin from an
// absolute path with auto-install disabled: the workbench never downloads.
package engine

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
)

// DefaultConfig is the backend used when neither a flag, GOMLX_BACKEND nor the
// config file says otherwise: GoMLX's own default for the go backend. With
// compute v0.1.2 it hung in most training runs (a matmul inside a worker waited
// for a worker slot) and "go:parallelism=-1" was needed; with v0.1.14 it
// finished 10 of 10 `bench engine --reps 100` runs at the speed of -1
// (BENCHMARKS.md), so the workaround is gone.
const DefaultConfig = "go"

// Resolve picks the backend configuration string: an explicit value (flag or
// config file) wins, then $GOMLX_BACKEND, then DefaultConfig.
func Resolve(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := strings.TrimSpace(os.Getenv(compute.ConfigEnvVar)); env != "" {
		return env
	}
	return DefaultConfig
}

// Name returns the backend name of a configuration string ("go" for
// "go:parallelism=-1").
func Name(config string) string {
	name, _, _ := strings.Cut(config, ":")
	return name
}

// New creates the backend for a configuration string. Unlike
// compute.NewWithConfig it returns an error (never panics) for a backend that
// this binary was not built with. A "go" backend comes wrapped with
// SkipIdentityTransposes: one wrapped backend serves the whole process, since
// GoMLX ties every tensor to the backend instance that made its buffer.
func New(config string) (compute.Backend, error) {
	b, err := NewPlain(config)
	if err != nil || Name(Resolve(config)) != "go" {
		return b, err
	}
	return SkipIdentityTransposes(b), nil
}

// NewPlain is New without the SkipIdentityTransposes wrapper (for measuring it).
func NewPlain(config string) (b compute.Backend, err error) {
	config = Resolve(config)
	name := Name(config)
	if !slices.Contains(compute.List(), name) {
		if name == "xla" {
			return nil, fmt.Errorf("backend %q: this binary was built without XLA support; rebuild with `-tags xla` (needs cgo) and point GOMLX_BACKEND at a PJRT plugin, e.g. xla:/abs/path/xla_cuda_plugin.so", config)
		}
		return nil, fmt.Errorf("backend %q is not available; built-in backends: %s", config, strings.Join(compute.List(), ", "))
	}
	if err := checkConfig(name, config); err != nil {
		return nil, err
	}
	defer func() {
		// The backends report some configuration problems by panicking.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", config, r)
		}
	}()
	// The go backend prints its parallelism setting on stdout, which would
	// corrupt --json output and the TUI's screen: silence stdout meanwhile.
	if devnull, err := os.Open(os.DevNull); err == nil {
		saved := os.Stdout
		os.Stdout = devnull
		defer func() { os.Stdout = saved; devnull.Close() }()
	}
	return compute.NewWithConfig(config)
}

// MustNew is New for tests and benchmarks.
func MustNew(config string) compute.Backend {
	b, err := New(config)
	if err != nil {
		panic(err)
	}
	return b
}
