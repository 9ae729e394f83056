package train

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gomlx/compute"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
)

// EngineBench is the result of BenchEngine (the `workbench bench engine` JSON).
type EngineBench struct {
	Preset      string  `json:"preset"`
	Params      int64   `json:"params"`
	Batch       int     `json:"batch"`
	SeqLen      int     `json:"seq_len"`
	LoRARank    int     `json:"lora_rank"`
	LoRAStepMS  float64 `json:"lora_step_ms"`
	TrainStepMS float64 `json:"train_step_ms"`
	// CPU time (all threads) per step, median: robust to other load on a shared machine.
	LoRAStepCPUMS  float64 `json:"lora_step_cpu_ms"`
	TrainStepCPUMS float64 `json:"train_step_cpu_ms"`
	// DecodeTokensPerS: batch 1, KV cache, DecodeNew greedy tokens after a 16-token prompt (prefill excluded).
	DecodeTokensPerS float64 `json:"decode_tokens_per_s"`
	DecodeNew        int     `json:"decode_new_tokens"`
	// DecodeCPUUSPerToken: CPU time (all threads) per decoded token, median over the decode runs.
	DecodeCPUUSPerToken float64 `json:"decode_cpu_us_per_token"`
	// GFLOPS: LoRAStepFLOPs / LoRA step time.
	GFLOPS        float64 `json:"gflops"`
	LoRAStepFLOPs float64 `json:"lora_step_flops"`
	Reps          int     `json:"reps"`
	Backend       string  `json:"backend"`
	SIMD          bool    `json:"simd"`
	// SkipIdentityTransposes: the backend was wrapped with SkipIdentityTransposes.
	SkipIdentityTransposes bool `json:"skip_identity_transposes"`
}

// BenchLoRA is the adapter the engine benchmark trains: rank 8 on every projection, as in the paper's setup.
var BenchLoRA = models.LoRAConfig{Rank: 8, Alpha: 16,
	Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}

// ForwardFLOPs counts the multiply-adds (×2) of one forward pass over a [B,T] batch: every projection and the
// LM head (2·in·out per token), the LoRA matmuls when lora != nil (2·r·(in+out) per token per target), and
// attention as computed here (full T×T scores, masked afterwards: QKᵀ and PV, 2·2·T·heads·head_dim per token
// per layer). Embedding lookup, norms and elementwise ops are not counted.
func ForwardFLOPs(cfg models.Config, lora *models.LoRAConfig, B, T int) float64 {
	h, q, kv, ff := float64(cfg.HiddenSize), float64(cfg.NumHeads*cfg.HeadDim), float64(cfg.NumKVHeads*cfg.HeadDim), float64(cfg.IntermediateSize)
	dims := map[string][2]float64{"q_proj": {h, q}, "k_proj": {h, kv}, "v_proj": {h, kv}, "o_proj": {q, h},
		"gate_proj": {h, ff}, "up_proj": {h, ff}, "down_proj": {ff, h}}
	var perTok float64
	for _, d := range dims {
		perTok += 2 * d[0] * d[1]
	}
	if lora != nil {
		for _, t := range lora.Targets {
			d := dims[t]
			perTok += 2 * float64(lora.Rank) * (d[0] + d[1])
		}
	}
	perTok += 4 * float64(T) * q // attention scores and weighted values
	perTok *= float64(cfg.NumLayers)
	perTok += 2 * h * float64(cfg.VocabSize) // LM head
	return perTok * float64(B*T)
}

func median(xs []float64) float64 {
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// BenchBatch returns a fixed random byte batch of B sequences of T tokens (loss on every position).
func BenchBatch(B, T int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	seqs := make([][]int32, B)
	for i := range seqs {
		seqs[i] = make([]int32, T)
		for j := range seqs[i] {
			seqs[i][j] = int32(32 + rng.IntN(95)) // printable ASCII
		}
	}
	b, err := MakeBatch(seqs, nil, T, 0)
	if err != nil {
		panic(err) // cannot happen: fixed, valid shapes
	}
	return b
}

// BenchEngine measures the train and decode speed of a preset on backend: warm-up runs are excluded and each
// figure is the median of reps timed runs. rank <= 0 uses BenchLoRA's rank (8).
func BenchEngine(backend compute.Backend, preset string, reps, rank int) (*EngineBench, error) {
	cfg, err := models.PresetConfig(preset)
	if err != nil {
		return nil, err
	}
	if reps <= 0 {
		reps = 10
	}
	lc := BenchLoRA
	if rank > 0 {
		lc.Rank, lc.Alpha = rank, float64(2*rank)
	}
	const B, T, warm, decodeNew = 8, 64, 3, 128
	m := &models.Model{Config: cfg, Params: models.NewRandom(cfg, 1), Tokenizer: tokenizer.NewByte()}
	res := &EngineBench{Preset: preset, Params: models.CountParams(cfg), Batch: B, SeqLen: T, LoRARank: lc.Rank,
		DecodeNew: decodeNew, Reps: reps, Backend: backend.Name()}
	b := BenchBatch(B, T, 1)

	timeSteps := func(step *Step, frozen, trainable models.Params) (wall, cpu float64, err error) {
		st := NewAdamState(trainable)
		var ms, cpums []float64
		for i := 0; i < warm+reps; i++ {
			t0, c0 := time.Now(), processCPU()
			r, err := step.Run(frozen, trainable, st, b, Hyper{LR: 1e-4})
			if err != nil {
				return 0, 0, err
			}
			if !r.Finite {
				return 0, 0, fmt.Errorf("bench: non-finite loss %v", r.Loss)
			}
			if i >= warm {
				ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
				cpums = append(cpums, float64((processCPU()-c0).Microseconds())/1000)
			}
		}
		return median(ms), median(cpums), nil
	}
	lstep, err := NewLoRAStep(backend, cfg, lc, DefaultAdam())
	if err != nil {
		return nil, err
	}
	ad := models.NewAdapter(cfg, lc, 1)
	if res.LoRAStepMS, res.LoRAStepCPUMS, err = timeSteps(lstep, m.Params, ad.Params); err != nil {
		return nil, err
	}
	fstep, err := NewFullStep(backend, cfg, DefaultAdam())
	if err != nil {
		return nil, err
	}
	if res.TrainStepMS, res.TrainStepCPUMS, err = timeSteps(fstep, nil, m.Params.Clone()); err != nil {
		return nil, err
	}
	// FLOPs: backward ≈ 2× forward (activation and weight-gradient paths), so a step ≈ 3× forward.
	res.LoRAStepFLOPs = 3 * ForwardFLOPs(cfg, &lc, B, T)
	res.GFLOPS = res.LoRAStepFLOPs / (res.LoRAStepMS / 1000) / 1e9

	gen := models.NewGenerator(backend, m)
	prompt := m.Tokenizer.Encode("The quick brown fox jumps.")[:16]
	var tps, cpuPerTok []float64
	for i := 0; i < 1+max(3, reps/3); i++ {
		s, err := gen.NewSession(len(prompt)+decodeNew, nil, nil)
		if err != nil {
			return nil, err
		}
		logits, err := s.Feed(prompt)
		if err != nil {
			return nil, err
		}
		t0, c0 := time.Now(), processCPU()
		for range decodeNew {
			if logits, err = s.Feed([]int{models.Argmax(logits)}); err != nil {
				return nil, err
			}
		}
		el, cpu := time.Since(t0).Seconds(), processCPU()-c0
		s.Close()
		if i > 0 { // the first run compiles the step graph
			tps = append(tps, decodeNew/el)
			cpuPerTok = append(cpuPerTok, float64(cpu.Microseconds())/decodeNew)
		}
	}
	res.DecodeTokensPerS = median(tps)
	res.DecodeCPUUSPerToken = median(cpuPerTok)
	return res, nil
}
