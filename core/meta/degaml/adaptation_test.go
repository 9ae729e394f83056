package degaml

import (
	"context"
	"math"
	"testing"

	"github.com/degaml/workbench/core/meta"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
)

// TestReSTEMNoOpIsNotRewardedOverARealHypothesis: hypothesis 0 is a no-op
// (its accuracy is that of the adapter it starts from), hypothesis 1 really
// improves. With co-evolution the start of iteration 2 is the improved
// adapter, so the no-op now scores above the un-adapted generated adapter —
// it must still earn no reward (it is judged against its own start, and a tie
// is not a gain), and the final policy must prefer the real hypothesis.
func TestReSTEMNoOpIsNotRewardedOverARealHypothesis(t *testing.T) {
	hyps := []Hypothesis{
		{Family: FamMix, Params: map[string]float64{"lambda": 0.5}},
		{Family: FamSFT, Params: map[string]float64{"steps": 5, "lr": 1e-2}},
	}
	// Adapters stand for themselves; their "accuracy" is stored in a map.
	accOf := map[*models.Adapter]float64{}
	gen := &models.Adapter{}
	accOf[gen] = 0.5
	co := &coevolution{cur: []*models.Adapter{gen}, curAcc: []float64{0.5}}
	exec := func(_ context.Context, _, _, hi int, start *models.Adapter) (*meta.Adapted, float64, error) {
		if hi == 0 {
			return &meta.Adapted{Adapter: start}, accOf[start], nil // no-op
		}
		better := &models.Adapter{}
		accOf[better] = math.Min(accOf[start]+0.1, 1)
		return &meta.Adapted{Adapter: better}, accOf[better], nil
	}
	type judged struct {
		h              string
		acc, start, rw float64
		tie            bool
	}
	var log []judged
	report := func(_, _ int, h Hypothesis, acc, startAcc, reward float64, tie, carried bool) {
		if !carried {
			log = append(log, judged{h.Family, acc, startAcc, reward, tie})
		}
	}
	pol, err := runReSTEM(context.Background(), hyps, [][]float64{{1}}, restemConfig{Iterations: 3, Hypotheses: 2, MinPerFamily: 1,
		Epochs: 200, LR: 0.5, L2: 1e-3, Seed: 1}, co.runner(hyps, exec, report))
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 6 {
		t.Fatalf("judged %d hypotheses, want 3 iterations × 2", len(log))
	}
	for _, j := range log {
		switch j.h {
		case FamMix:
			if j.rw != 0 || !j.tie {
				t.Fatalf("no-op hypothesis rewarded %g (acc %.2f, start %.2f, tie %v)", j.rw, j.acc, j.start, j.tie)
			}
		case FamSFT:
			if j.rw != 1 {
				t.Fatalf("real hypothesis not rewarded (acc %.2f, start %.2f)", j.acc, j.start)
			}
		}
	}
	// Iteration 2's no-op starts from the carried adapter (0.6), above the
	// generated adapter's 0.5: the old "≥ generated" rule would reward it.
	if log[2].h != FamMix || log[2].start != 0.6 || co.ties != 3 || co.rewarded != 3 {
		t.Fatalf("co-evolution state: %+v, ties %d, rewarded %d", log, co.ties, co.rewarded)
	}
	if got := co.familySummary(); got != "mix 0/3 (3 ties), sft 3/3 (0 ties)" {
		t.Fatalf("per-family reward log %q", got)
	}
	if p := pol.Probs([]float64{1}); !(p[1] > 0.9) {
		t.Fatalf("policy should prefer the real hypothesis: %v", p)
	}
	if r, tie := rewardOf(0.5, 0.5); r != 0 || !tie {
		t.Fatal("a tie must not be rewarded")
	}
	if r, _ := rewardOf(0.4, 0.5); r != 0 {
		t.Fatal("a loss must not be rewarded")
	}
}

// TestMixDeltaIsTheInterpolatedUpdate: the delta mix of two adapters has
// ΔW = s·B·A equal to (1−λ)·ΔW_a + λ·ΔW_b, with the same LoRA scale s.
func TestMixDeltaIsTheInterpolatedUpdate(t *testing.T) {
	cfg := models.Config{Arch: "llama", VocabSize: 260, HiddenSize: 8, NumLayers: 1, NumHeads: 2, NumKVHeads: 1, HeadDim: 4,
		IntermediateSize: 12, MaxPositions: 16, RopeTheta: 10000, RMSNormEps: 1e-5, BOSTokenID: -1, EOSTokenID: -1}
	for _, rs := range []bool{false, true} {
		l := models.LoRAConfig{Rank: 2, Alpha: 4, RSLoRA: rs, Targets: []string{"q_proj", "down_proj"}}
		a, b := models.NewAdapter(cfg, l, 1), models.NewAdapter(cfg, l, 2)
		// Non-zero B so the updates differ.
		for i, ad := range []*models.Adapter{a, b} {
			for n, tt := range ad.Params {
				d := tensors.MustCopyFlatData[float32](tt)
				for j := range d {
					d[j] += float32(0.1 * float64((j+3*i)%7-3))
				}
				ad.Params[n] = tensors.FromFlatDataAndDimensions(d, tt.Shape().Dimensions...)
			}
		}
		const lam = 0.3
		m := MixDeltaAdapters(a, b, lam)
		if m.Config.Rank != 4 || math.Abs(m.Config.Scale()-a.Config.Scale()) > 1e-12 {
			t.Fatalf("rsLoRA=%v: mixed rank %d scale %g, want rank 4 and scale %g", rs, m.Config.Rank, m.Config.Scale(), a.Config.Scale())
		}
		delta := func(ad *models.Adapter, mod string) ([]float64, int, int) {
			A, B := ad.Params[mod+".lora_A"], ad.Params[mod+".lora_B"]
			r, in := A.Shape().Dimensions[0], A.Shape().Dimensions[1]
			out := B.Shape().Dimensions[0]
			fa, fb := tensors.MustCopyFlatData[float32](A), tensors.MustCopyFlatData[float32](B)
			w := make([]float64, out*in)
			for i := range out {
				for j := range in {
					for k := range r {
						w[i*in+j] += ad.Config.Scale() * float64(fb[i*r+k]) * float64(fa[k*in+j])
					}
				}
			}
			return w, out, in
		}
		for _, mod := range []string{"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"} {
			wm, _, _ := delta(m, mod)
			wa, _, _ := delta(a, mod)
			wb, _, _ := delta(b, mod)
			for i := range wm {
				want := (1-lam)*wa[i] + lam*wb[i]
				if math.Abs(wm[i]-want) > 1e-5 {
					t.Fatalf("%s[%d]: mixed ΔW %g, want %g", mod, i, wm[i], want)
				}
			}
		}
		if err := m.Validate(cfg); err != nil {
			t.Fatalf("mixed adapter invalid: %v", err)
		}
	}
}

// TestSFTReducesSupportLoss: the supervised family lowers the answer-only
// loss of its support set.
func TestSFTReducesSupportLoss(t *testing.T) {
	env := dgTestEnv(t)
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	a := models.NewAdapter(env.Model.Config, env.LoRA, 3)
	sup := dgToyTask("sft", 1, false).Splits.Train
	b := r.lmBatchOf(sup, true, 0)
	before, err := r.LMLoss(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var steps int
	ad, err := r.SFT(context.Background(), famCtx{publish: func(e events.Event) {
		if e.Phase == FamSFT {
			steps++
		}
	}}, a, sup, 8, len(sup), 1e-2, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	after, err := r.LMLoss(ad, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SFT 8 steps: support answer loss %.4f → %.4f", before, after)
	if steps != 8 || !(after < before-0.05) {
		t.Fatalf("SFT should lower the support loss in 8 steps (%d events): %.4f → %.4f", steps, before, after)
	}
	// A delta-mixed adapter (rank 2r, as co-evolution may carry) trains too
	// and keeps its rank and scale.
	mixed := MixDeltaAdapters(ad, a, 0.5)
	ml, err := r.LMLoss(mixed, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	ad2, err := r.SFT(context.Background(), famCtx{publish: meta.Discard}, mixed, sup, 2, len(sup), 1e-2, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad2.Validate(env.Model.Config); err != nil || ad2.Config.Rank != 2*env.LoRA.Rank || ad2.Config.Scale() != env.LoRA.Scale() {
		t.Fatalf("SFT of a mixed adapter: config %+v, %v", ad2.Config, err)
	}
	l2, err := r.LMLoss(ad2, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if !(l2 < ml) {
		t.Fatalf("SFT of a mixed adapter should lower its support loss: %.4f → %.4f", ml, l2)
	}
}
