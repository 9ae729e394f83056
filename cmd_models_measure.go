package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/models"
)

// measureResult is what `models measure` reports: the real-size numbers of BENCHMARKS.md.
type measureResult struct {
	Model          string  `json:"model"`
	Backend        string  `json:"backend"`
	Params         int64   `json:"params"`
	LoadS          float64 `json:"load_s"`
	LoadCPUS       float64 `json:"load_cpu_s"`
	RSSAfterLoadMB float64 `json:"rss_after_load_mb"`
	PromptTokens   int     `json:"prompt_tokens"`
	FirstTokenS    float64 `json:"first_token_s"`    // prefill of the prompt, logits of the next token
	DecodeTokPerS  float64 `json:"decode_tok_per_s"` // steady state, after the first decode step
	DecodeCPUPerTk float64 `json:"decode_cpu_ms_per_token"`
	FirstDecodeS   float64 `json:"first_decode_s"` // first single-token step (includes its compile)
	LoRABatch      string  `json:"lora_batch,omitempty"`
	LoRAStepS      float64 `json:"lora_step_s,omitempty"` // second step (the first compiles)
	LoRAStepCPUS   float64 `json:"lora_step_cpu_s,omitempty"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
}

// measureModel implements `workbench models measure --model DIR`: load time, resident memory, time to first
// token, decode speed and (with --lora-batch) one LoRA forward+backward step, each phase timed on its own so a
// regression points at its phase. Peak RSS is the process high-water mark (VmHWM).
func measureModel(w io.Writer, args []string) error {
	fs := newFlags("models measure")
	model := fs.String("model", "", "HF model directory (or preset)")
	promptTokens := fs.Int("prompt-tokens", 32, "prompt length for the first-token measurement")
	newTokens := fs.Int("new", 16, "decode steps to time")
	loraBatch := fs.String("lora-batch", "", "also time one LoRA step (rank 8, all 7 projections) at BxT, e.g. 2x128")
	backend := fs.String("backend", "", "GoMLX backend (default: $GOMLX_BACKEND, then go:parallelism=-1)")
	asJSON := fs.Bool("json", false, "print JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the decode phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" {
		return errors.New("models measure: --model is required")
	}
	if *promptTokens < 1 || *newTokens < 2 {
		return errors.New("models measure: --prompt-tokens must be >= 1 and --new >= 2")
	}
	var lb, lt int
	if *loraBatch != "" {
		b, t, ok := strings.Cut(*loraBatch, "x")
		var e1, e2 error
		lb, e1 = strconv.Atoi(b)
		lt, e2 = strconv.Atoi(t)
		if !ok || e1 != nil || e2 != nil || lb < 1 || lt < 2 {
			return fmt.Errorf("models measure: --lora-batch %q: want BxT, e.g. 2x128", *loraBatch)
		}
	}
	res := measureResult{Model: *model, Backend: engine.Resolve(*backend), PromptTokens: *promptTokens}
	be, err := newQuietBackend(*backend)
	if err != nil {
		return err
	}
	cpu0, t0 := cpuSeconds(), time.Now()
	m, err := loadModelArg(*model, 0, be)
	if err != nil {
		return err
	}
	res.LoadS, res.LoadCPUS = time.Since(t0).Seconds(), cpuSeconds()-cpu0
	res.Params = models.CountParams(m.Config)
	res.RSSAfterLoadMB = procStatusMB("VmRSS")
	cfg := m.Config
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int, *promptTokens)
	for i := range prompt {
		prompt[i] = rng.IntN(min(cfg.VocabSize, 10000)) // ordinary (non-special) ids
	}
	g := models.NewGenerator(be, m)
	s, err := g.NewSession(*promptTokens+*newTokens+1, nil, nil)
	if err != nil {
		return err
	}
	t0 = time.Now()
	logits, err := s.Feed(prompt)
	if err != nil {
		return err
	}
	res.FirstTokenS = time.Since(t0).Seconds()
	next := argmax(logits)
	t0 = time.Now()
	if _, err = s.Feed([]int{next}); err != nil { // the first single-token step compiles its graph
		return err
	}
	res.FirstDecodeS = time.Since(t0).Seconds()
	s.Close()
	// Steady decode, in a fresh session with every graph compiled.
	s, err = g.NewSession(*promptTokens+*newTokens+1, nil, nil)
	if err != nil {
		return err
	}
	if logits, err = s.Feed(prompt); err != nil {
		return err
	}
	next = argmax(logits)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile() // also on an error below; stopping twice is harmless
	}
	cpu0, t0 = cpuSeconds(), time.Now()
	for range *newTokens {
		if logits, err = s.Feed([]int{next}); err != nil {
			return err
		}
		next = argmax(logits)
	}
	el, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	s.Close()
	res.DecodeTokPerS = float64(*newTokens) / el
	res.DecodeCPUPerTk = 1000 * cpu / float64(*newTokens)

	if lb > 0 {
		res.LoRABatch = fmt.Sprintf("%dx%d", lb, lt)
		r := models.NewRunner(be, cfg)
		a := models.NewAdapter(cfg, models.LoRAConfig{Rank: 8, Alpha: 16,
			Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}, 0)
		ids := make([][]int32, lb)
		for b := range ids {
			ids[b] = make([]int32, lt)
			for t := range ids[b] {
				ids[b][t] = int32(rng.IntN(min(cfg.VocabSize, 10000)))
			}
		}
		for rep := range 2 {
			cpu0, t0 = cpuSeconds(), time.Now()
			loss, grads, err := r.LossAndGrad(m.Params, a, ids, nil)
			if err != nil {
				return err
			}
			for _, gt := range grads {
				gt.FinalizeAll()
			}
			if rep == 1 {
				res.LoRAStepS, res.LoRAStepCPUS = time.Since(t0).Seconds(), cpuSeconds()-cpu0
			}
			if math.IsNaN(float64(loss)) {
				return errors.New("models measure: the LoRA step's loss is NaN")
			}
		}
	}
	res.PeakRSSMB = procStatusMB("VmHWM")
	if *asJSON {
		return json.NewEncoder(w).Encode(res)
	}
	fmt.Fprintf(w, "%s: %d params, backend %s, %d CPUs\n", res.Model, res.Params, res.Backend, runtime.NumCPU())
	fmt.Fprintf(w, "  load         %6.2f s (CPU %.2f s), RSS after load %.0f MB\n", res.LoadS, res.LoadCPUS, res.RSSAfterLoadMB)
	fmt.Fprintf(w, "  first token  %6.2f s (prefill of %d tokens)\n", res.FirstTokenS, res.PromptTokens)
	fmt.Fprintf(w, "  decode       %6.2f tokens/s (CPU %.0f ms/token; first step %.2f s)\n", res.DecodeTokPerS, res.DecodeCPUPerTk, res.FirstDecodeS)
	if lb > 0 {
		fmt.Fprintf(w, "  LoRA step    %6.2f s (CPU %.2f s) at %s, rank 8, 7 projections\n", res.LoRAStepS, res.LoRAStepCPUS, res.LoRABatch)
	}
	fmt.Fprintf(w, "  peak RSS     %6.0f MB\n", res.PeakRSSMB)
	return nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// cpuSeconds is this process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// procStatusMB reads a kB field (VmRSS, VmHWM) of /proc/self/status in MB; 0 where there is no /proc.
func procStatusMB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1000
		}
	}
	return 0
}
