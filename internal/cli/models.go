package cli

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
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/internal/mkcheckpoint"
	"github.com/degaml/workbench/internal/procstat"
	"github.com/degaml/workbench/models"
)

// newModelsCmd is `workbench models [--json]`, with make-random and measure
// below it.
func newModelsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "list the built-in model presets with their parameter counts (--json)",
		RunE: func(_ *cobra.Command, args []string) error {
			if _, err := a.load(); err != nil { // a bad --config is an error here too
				return err
			}
			if len(args) > 0 {
				return fmt.Errorf("models: unexpected arguments %q", args)
			}
			return listModels(a.stdout, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of presets")
	cmd.AddCommand(newMakeRandomCmd(a), newModelsMeasureCmd(a))
	return cmd
}

type presetJSON struct {
	Name        string        `json:"name"`
	Params      int64         `json:"params"`
	Description string        `json:"description"`
	Config      models.Config `json:"config"`
}

func listModels(w io.Writer, asJSON bool) error {
	ps := models.Presets()
	if asJSON {
		out := make([]presetJSON, len(ps))
		for i, p := range ps {
			out[i] = presetJSON{Name: p.Name, Params: p.Params, Description: p.Description, Config: p.Config}
		}
		return json.NewEncoder(w).Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPARAMS\tLAYERS\tHIDDEN\tHEADS/KV\tFF\tCONTEXT\tDESCRIPTION")
	for _, p := range ps {
		c := p.Config
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d/%d\t%d\t%d\t%s\n", p.Name, p.Params, c.NumLayers, c.HiddenSize,
			c.NumHeads, c.NumKVHeads, c.IntermediateSize, c.MaxPositions, p.Description)
	}
	return tw.Flush()
}

// makeRandomOptions are `workbench models make-random`'s flags.
type makeRandomOptions struct {
	shape, out string
	seed       uint64
	shardMiB   int64
}

// newMakeRandomCmd is `workbench models make-random --shape NAME --out DIR [--seed N] [--max-shard-mib N]`.
// It lives in the binary (not a separate tool) so that anyone measuring real sizes — a CI job, a researcher
// on a GPU machine — has the generator wherever the workbench is installed.
func newMakeRandomCmd(a *app) *cobra.Command {
	var o makeRandomOptions
	cmd := &cobra.Command{
		Use:   "make-random",
		Short: "write a random checkpoint of a published shape (--shape NAME --out DIR)",
		Args:  noArgs("models make-random: unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return makeRandom(a.stdout, &o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.shape, "shape", "", "published shape: "+shapeNames())
	fs.StringVar(&o.out, "out", "", "directory to write (created; existing checkpoint files are replaced)")
	fs.Uint64Var(&o.seed, "seed", 0, "weight seed")
	fs.Int64Var(&o.shardMiB, "max-shard-mib", 2048, "split the weights into shards of at most this many MiB")
	return cmd
}

func makeRandom(w io.Writer, o *makeRandomOptions) error {
	if o.shape == "" || o.out == "" {
		return fmt.Errorf("models make-random: --shape and --out are required (shapes: %s)", shapeNames())
	}
	if o.shardMiB <= 0 {
		return fmt.Errorf("models make-random: --max-shard-mib %d must be positive", o.shardMiB)
	}
	s, err := mkcheckpoint.Lookup(o.shape)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := mkcheckpoint.Write(o.out, s, mkcheckpoint.Options{Seed: o.seed, MaxShardBytes: o.shardMiB << 20}); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%s) to %s in %.1fs\n", s.Name, s.Description, o.out, time.Since(start).Seconds())
	return nil
}

func shapeNames() string {
	var names []string
	for _, s := range mkcheckpoint.Shapes() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

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

// newModelsMeasureCmd is `workbench models measure --model DIR`: load time, resident memory, time to first
// token, decode speed and (with --lora-batch) one LoRA forward+backward step, each phase timed on its own so a
// regression points at its phase. Peak RSS is the process high-water mark (VmHWM).
func newModelsMeasureCmd(a *app) *cobra.Command {
	var o measureOptions
	cmd := &cobra.Command{
		Use:   "measure",
		Short: "time load, first token, decode and a LoRA step of a model (--model DIR)",
		Args:  noArgs("models measure: unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return measureModel(a.stdout, &o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.model, "model", "", "HF model directory (or preset)")
	fs.IntVar(&o.promptTokens, "prompt-tokens", 32, "prompt length for the first-token measurement")
	fs.IntVar(&o.newTokens, "new", 16, "decode steps to time")
	fs.StringVar(&o.loraBatch, "lora-batch", "", "also time one LoRA step (rank 8, all 7 projections) at BxT, e.g. 2x128")
	fs.StringVar(&o.backend, "backend", "", "GoMLX backend (default: $GOMLX_BACKEND, then go:parallelism=-1)")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the decode phase to this file")
	return cmd
}

// measureOptions are `workbench models measure`'s flags.
type measureOptions struct {
	model, loraBatch, backend, cpuProfile string
	promptTokens, newTokens               int
	json                                  bool
}

func measureModel(w io.Writer, o *measureOptions) error {
	if o.model == "" {
		return errors.New("models measure: --model is required")
	}
	if o.promptTokens < 1 || o.newTokens < 2 {
		return errors.New("models measure: --prompt-tokens must be >= 1 and --new >= 2")
	}
	var lb, lt int
	if o.loraBatch != "" {
		b, t, ok := strings.Cut(o.loraBatch, "x")
		var e1, e2 error
		lb, e1 = strconv.Atoi(b)
		lt, e2 = strconv.Atoi(t)
		if !ok || e1 != nil || e2 != nil || lb < 1 || lt < 2 {
			return fmt.Errorf("models measure: --lora-batch %q: want BxT, e.g. 2x128", o.loraBatch)
		}
	}
	res := measureResult{Model: o.model, Backend: engine.Resolve(o.backend), PromptTokens: o.promptTokens}
	be, err := engine.New(o.backend)
	if err != nil {
		return err
	}
	sw := procstat.Start()
	m, err := loadModelArg(o.model, 0, be)
	if err != nil {
		return err
	}
	res.LoadS, res.LoadCPUS = sw.Read()
	res.Params = models.CountParams(m.Config)
	res.RSSAfterLoadMB = procstat.StatusMB("VmRSS")
	cfg := m.Config
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int, o.promptTokens)
	for i := range prompt {
		prompt[i] = rng.IntN(min(cfg.VocabSize, 10000)) // ordinary (non-special) ids
	}
	g := models.NewGenerator(be, m)
	s, err := g.NewSession(o.promptTokens+o.newTokens+1, nil, nil)
	if err != nil {
		return err
	}
	sw = procstat.Start()
	logits, err := s.Feed(prompt)
	if err != nil {
		return err
	}
	res.FirstTokenS, _ = sw.Read()
	next := models.Argmax(logits)
	sw = procstat.Start()
	if _, err = s.Feed([]int{next}); err != nil { // the first single-token step compiles its graph
		return err
	}
	res.FirstDecodeS, _ = sw.Read()
	s.Close()
	// Steady decode, in a fresh session with every graph compiled.
	s, err = g.NewSession(o.promptTokens+o.newTokens+1, nil, nil)
	if err != nil {
		return err
	}
	if logits, err = s.Feed(prompt); err != nil {
		return err
	}
	next = models.Argmax(logits)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile() // also on an error below; stopping twice is harmless
	}
	sw = procstat.Start()
	for range o.newTokens {
		if logits, err = s.Feed([]int{next}); err != nil {
			return err
		}
		next = models.Argmax(logits)
	}
	el, cpu := sw.Read()
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	s.Close()
	res.DecodeTokPerS = float64(o.newTokens) / el
	res.DecodeCPUPerTk = 1000 * cpu / float64(o.newTokens)

	if lb > 0 {
		res.LoRABatch = fmt.Sprintf("%dx%d", lb, lt)
		r := models.NewRunner(be, cfg)
		a := models.NewAdapter(cfg, models.LoRAConfig{Rank: 8, Alpha: 16, Targets: models.LoRATargets()}, 0)
		ids := make([][]int32, lb)
		for b := range ids {
			ids[b] = make([]int32, lt)
			for t := range ids[b] {
				ids[b][t] = int32(rng.IntN(min(cfg.VocabSize, 10000)))
			}
		}
		for rep := range 2 {
			sw = procstat.Start()
			loss, grads, err := r.LossAndGrad(m.Params, a, ids, nil)
			if err != nil {
				return err
			}
			for _, gt := range grads {
				gt.FinalizeAll()
			}
			if rep == 1 {
				res.LoRAStepS, res.LoRAStepCPUS = sw.Read()
			}
			if math.IsNaN(float64(loss)) {
				return errors.New("models measure: the LoRA step's loss is NaN")
			}
		}
	}
	res.PeakRSSMB = procstat.StatusMB("VmHWM")
	if o.json {
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
