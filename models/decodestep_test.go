package models

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models/tokenizer"
)

// TestGemvRowsMatchesFloat64 checks the Go LM-head product against a float64 sum on shapes that exercise the
// 4-row SIMD body, the row tail, the column tail and several worker chunks (2053×67 is split over the cores).
func TestGemvRowsMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{1, 1}, {3, 7}, {5, 8}, {13, 67}, {2053, 67}} {
		out, in := sz[0], sz[1]
		w := make([]float32, out*in)
		x := make([]float32, in)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		got := matVecT(w, in, x)
		if len(got) != out {
			t.Fatalf("%dx%d: %d outputs", out, in, len(got))
		}
		for o := range out {
			want, mag := 0.0, 0.0
			for k := range in {
				want += float64(w[o*in+k]) * float64(x[k])
				mag += math.Abs(float64(w[o*in+k]) * float64(x[k]))
			}
			if d := math.Abs(float64(got[o]) - want); d > 1e-5*mag+1e-6 {
				t.Fatalf("%dx%d: y[%d] = %g, want %g", out, in, o, got[o], want)
			}
		}
	}
}

// TestGoStepMatchesGraph runs the same greedy decode with the one-token step in the graph and in Go (forced
// on for a nano model, which normally keeps the graph step), with and without a LoRA adapter and a SLOT delta:
// the logits of every step agree within float32 rounding and the tokens are identical.
func TestGoStepMatchesGraph(t *testing.T) {
	cfg, _ := PresetConfig("nano")
	params := NewRandom(cfg, 4)
	// A sharper head than N(0, 0.02²): clear arg-maxes, and logit errors of the head's size are visible.
	head := params[headName(cfg)]
	hd := tensors.MustCopyFlatData[float32](head)
	for i := range hd {
		hd[i] *= 40
	}
	params[headName(cfg)] = tensors.FromFlatDataAndDimensions(hd, head.Shape().Dimensions...)
	m := &Model{Config: cfg, Params: params, Tokenizer: tokenizer.NewByte()}
	be := generateBackend(t)

	lora := LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "v_proj", "down_proj"}}
	ad := NewAdapter(cfg, lora, 5)
	rng := rand.New(rand.NewPCG(3, 9))
	for _, n := range ad.Params.Names() {
		if n[len(n)-1] == 'B' {
			d := tensors.MustCopyFlatData[float32](ad.Params[n])
			for i := range d {
				d[i] = float32(rng.NormFloat64() * 0.05)
			}
			ad.Params[n] = tensors.FromFlatDataAndDimensions(d, ad.Params[n].Shape().Dimensions...)
		}
	}
	delta := make([]float32, cfg.HiddenSize)
	for i := range delta {
		delta[i] = float32(rng.NormFloat64() * 0.1)
	}
	prompt := m.Tokenizer.Encode("The quick brown fox")
	for _, tc := range []struct {
		name    string
		adapter *Adapter
		delta   []float32
	}{{"base", nil, nil}, {"lora+delta", ad, delta}} {
		t.Run(tc.name, func(t *testing.T) {
			graphGen, goGen := NewGenerator(be, m), NewGenerator(be, m)
			graphGen.goStep, goGen.goStep = false, true
			opt := GenerateOptions{MaxNew: 20, Greedy: true, Adapter: tc.adapter, HiddenDelta: tc.delta}
			want, err := graphGen.Generate(context.Background(), prompt, opt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := goGen.Generate(context.Background(), prompt, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.IDs) != len(want.IDs) {
				t.Fatalf("go step: %d tokens, graph: %d", len(got.IDs), len(want.IDs))
			}
			for i := range want.IDs {
				if got.IDs[i] != want.IDs[i] {
					t.Fatalf("token %d: go step %d, graph %d (go %v, graph %v)", i, got.IDs[i], want.IDs[i], got.IDs, want.IDs)
				}
			}
			// Step by step on the same tokens: the logits agree.
			sg, err := graphGen.NewSession(64, tc.adapter, tc.delta)
			if err != nil {
				t.Fatal(err)
			}
			defer sg.Close()
			sh, err := goGen.NewSession(64, tc.adapter, tc.delta)
			if err != nil {
				t.Fatal(err)
			}
			defer sh.Close()
			// A multi-token feed between one-token steps hands the cache from Go back to the graph and again.
			feed := [][]int{prompt}
			for i, id := range want.IDs {
				if i == 10 {
					feed = append(feed, want.IDs[10:13])
				}
				if i < 10 || i >= 13 {
					feed = append(feed, []int{id})
				}
			}
			for step, ids := range feed {
				lg, err := sg.Feed(ids)
				if err != nil {
					t.Fatal(err)
				}
				lh, err := sh.Feed(ids)
				if err != nil {
					t.Fatal(err)
				}
				if len(lh) != len(lg) {
					t.Fatalf("step %d: %d logits, want %d", step, len(lh), len(lg))
				}
				for v := range lg {
					if d := math.Abs(float64(lh[v] - lg[v])); d > 1e-4*(1+math.Abs(float64(lg[v]))) {
						t.Fatalf("step %d: logit %d = %g (go step), %g (graph)", step, v, lh[v], lg[v])
					}
				}
			}
		})
	}
}

// TestGoStepMatchesHFReference forces the Go one-token step on the hf-reference models (Qwen2 with q/k/v
// biases, Llama; both GQA): greedy 12 equals HF's continuation, and feeding the prompt one token at a time
// (every position a Go step) gives HF's logits, and PEFT's with the reference LoRA adapter.
func TestGoStepMatchesHFReference(t *testing.T) {
	dir, ref := generationReference(t)
	for _, kind := range []string{"qwen2", "llama"} {
		m, ad := loadTinyWithLoRA(t, dir, kind)
		gen := NewGenerator(generateBackend(t), m)
		gen.goStep = true
		V := m.Config.VocabSize
		for _, rc := range referenceCases(t, ref, kind) {
			key, prompt := rc.key, rc.prompt
			assertGreedy12(t, gen, ref, key, prompt, " (go step)")
			for _, withLoRA := range []bool{false, true} {
				wantLogits, adapter := ref[key+"logits"], (*Adapter)(nil)
				if withLoRA {
					var ok bool
					if wantLogits, ok = ref[kind+".lora."+key[len(kind)+1:]+"logits"]; !ok {
						continue // PEFT logits exist for some cases only
					}
					adapter = ad
				}
				s, err := gen.NewSession(len(prompt), adapter, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i, id := range prompt {
					got, err := s.Feed([]int{id})
					if err != nil {
						t.Fatal(err)
					}
					if e := relErr(got, wantLogits.F32[i*V:(i+1)*V]); e > 1e-4 {
						t.Fatalf("%s lora=%v position %d: go-step logits rel err %.2e vs HF", key, withLoRA, i, e)
					}
				}
				s.Close()
			}
		}
	}
}

// BenchmarkGemvHead times the Go LM-head product of a Qwen2.5-0.5B shape (151,936 × 896, 544 MB of float32):
// it reads every weight once, so GB/s is the memory bandwidth the decode step gets.
func BenchmarkGemvHead(b *testing.B) {
	const out, in = 151936, 896
	w := make([]float32, out*in)
	for i := range w {
		w[i] = float32(i%17) * 0.01
	}
	x := make([]float32, in)
	for i := range x {
		x[i] = float32(i%5) * 0.1
	}
	y := make([]float32, out)
	b.ResetTimer()
	for b.Loop() {
		matVecInto(w, in, x, y)
	}
	b.ReportMetric(float64(len(w)*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// TestGoStepFits: the Go step is chosen for a real-size head on the go backend only.
func TestGoStepFits(t *testing.T) {
	nano, _ := PresetConfig("nano")
	q05 := nano
	q05.VocabSize, q05.HiddenSize = 151936, 896 // Qwen2.5-0.5B's head
	be := generateBackend(t)
	if !goStepFits(be, q05) {
		t.Error("0.5B head on the go backend: want the Go step")
	}
	if goStepFits(be, nano) {
		t.Error("nano: want the graph step")
	}
	if goStepFits(nil, q05) {
		t.Error("no backend: want the graph step")
	}
}

// TestGoStepMatchesGraphRealSize is a long test (not in CI): WORKBENCH_DECODE_MODEL=DIR names a real-size
// checkpoint (e.g. `workbench models make-random --shape qwen2.5-0.5b --out DIR`). The Go step and the graph
// step decode 8 greedy tokens after a 16-token prompt from one loaded copy of the weights: same tokens, logits
// within float32 rounding.
func TestGoStepMatchesGraphRealSize(t *testing.T) {
	dir := os.Getenv("WORKBENCH_DECODE_MODEL")
	if dir == "" {
		t.Skip("long test: set WORKBENCH_DECODE_MODEL to a real-size checkpoint directory")
	}
	be := generateBackend(t)
	m, err := LoadHFWith(dir, LoadOptions{Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	if !goStepFits(be, m.Config) {
		t.Fatalf("%s: the head (%d × %d) is too small for the Go step", dir, m.Config.VocabSize, m.Config.HiddenSize)
	}
	graphGen, goGen := NewGenerator(be, m), NewGenerator(be, m)
	graphGen.goStep = false
	prompt := make([]int, 16)
	for i := range prompt {
		prompt[i] = 100 + 37*i
	}
	sg, err := graphGen.NewSession(32, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sg.Close()
	sh, err := goGen.NewSession(32, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	ids := prompt
	var worst float64
	for step := range 9 {
		lg, err := sg.Feed(ids)
		if err != nil {
			t.Fatal(err)
		}
		lh, err := sh.Feed(ids)
		if err != nil {
			t.Fatal(err)
		}
		e := relErr(lh, lg)
		if e > 1e-4 {
			t.Fatalf("step %d: go-step logits rel err %.2e vs the graph step", step, e)
		}
		worst = max(worst, e)
		if a, b := Argmax(lh), Argmax(lg); a != b {
			t.Fatalf("step %d: go step picks %d, graph %d", step, a, b)
		}
		ids = []int{Argmax(lg)}
	}
	t.Logf("8 decode steps: same tokens, logits rel err ≤ %.2e", worst)
}
