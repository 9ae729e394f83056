package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gomlx/compute"

	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/core/train"
)

func init() {
	register("bench engine", "measure train-step and decode speed of a preset (--preset nano, --reps N, --json)", cmdBenchEngine)
}

// cmdBenchEngine implements `workbench bench engine [--preset nano] [--reps N] [--rank R] [--json]`: LoRA and full train
// steps on a batch of 8 × 64 tokens, KV-cached decoding of 128 tokens, FLOP rate; warm-up excluded, medians.
func cmdBenchEngine(args []string) error { return benchEngine(os.Stdout, args) }

func benchEngine(w io.Writer, args []string) error {
	fs := newFlags("bench engine")
	preset := fs.String("preset", "nano", "model preset")
	reps := fs.Int("reps", 10, "timed repetitions per measurement (median reported)")
	rank := fs.Int("rank", 8, "LoRA rank of the LoRA step (adapter on all seven projections)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	keepID := fs.Bool("keep-identity-transposes", false, "run the go backend without engine.SkipIdentityTransposes (to measure it)")
	backend := fs.String("backend", "", "GoMLX backend (default: $GOMLX_BACKEND, then "+engine.DefaultConfig+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench engine: unexpected arguments %q", fs.Args())
	}
	if *rank < 1 {
		return fmt.Errorf("bench engine: --rank %d must be >= 1", *rank)
	}
	if *reps < 1 {
		return fmt.Errorf("bench engine: --reps %d must be >= 1", *reps)
	}
	cfgStr := engine.Resolve(*backend)
	newBackend := engine.New
	if *keepID {
		newBackend = engine.NewPlain
	}
	be, err := newBackend(cfgStr)
	if err != nil {
		return err
	}
	res, err := train.BenchEngine(be, *preset, *reps, *rank)
	if err != nil {
		return err
	}
	res.Backend = cfgStr
	res.SIMD = simdBuild
	res.SkipIdentityTransposes = engine.SkipsIdentityTransposes(be)
	if *asJSON {
		return json.NewEncoder(w).Encode(res)
	}
	fmt.Fprintf(w, "preset %s (%d params), backend %s, simd %v, batch %d×%d, LoRA rank %d, median of %d\n",
		res.Preset, res.Params, res.Backend, res.SIMD, res.Batch, res.SeqLen, res.LoRARank, res.Reps)
	fmt.Fprintf(w, "  LoRA step   %8.1f ms  (CPU %.1f ms; %.2f GFLOP/s, %.2f GFLOP/step)\n", res.LoRAStepMS, res.LoRAStepCPUMS, res.GFLOPS, res.LoRAStepFLOPs/1e9)
	fmt.Fprintf(w, "  full step   %8.1f ms  (CPU %.1f ms)\n", res.TrainStepMS, res.TrainStepCPUMS)
	fmt.Fprintf(w, "  decode      %8.1f tokens/s  (CPU %.0f µs/token; batch 1, KV cache, %d new tokens)\n", res.DecodeTokensPerS, res.DecodeCPUUSPerToken, res.DecodeNew)
	return nil
}

// newQuietBackend creates the backend; core/engine keeps the go backend's
// start-up message off stdout, so --json output stays clean.
func newQuietBackend(config string) (compute.Backend, error) { return engine.New(config) }
