package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestChunkedLMLossMatchesCausalLMLoss compares ChunkedLMLoss with CausalLMLoss(Forward(...)) in one graph:
// the loss, and the gradients w.r.t. a LoRA adapter (all seven projections, B non-zero so A's gradient is not
// trivially zero) and a SLOT δ, on the nano shape (separate lm_head) and a tied-embedding Qwen2 shape, with
// rows ending mid-batch, a loss that starts late in one row (lossFrom), chunks of 1, 5 and 7 rows (the last one
// short) and an all-zero weight batch.
func TestChunkedLMLossMatchesCausalLMLoss(t *testing.T) {
	nano, err := PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	tied := Config{Arch: "qwen2", VocabSize: 461, HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 16, IntermediateSize: 176, MaxPositions: 256, RopeTheta: 1e4, RMSNormEps: 1e-6, QKVBias: true,
		TieEmbeddings: true, BOSTokenID: -1, EOSTokenID: 2}
	be := hfrefBackend(t)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"nano", nano}, {"tied-qwen2", tied}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			rng := rand.New(rand.NewPCG(7, 11))
			params := NewRandom(cfg, 3)
			// A sharper head than N(0, 0.02²): predictions far from uniform, so the softmax matters.
			head := params[headName(cfg)]
			hd := tensors.MustCopyFlatData[float32](head)
			for i := range hd {
				hd[i] *= 40
			}
			params[headName(cfg)] = tensors.FromFlatDataAndDimensions(hd, head.Shape().Dimensions...)
			lora := LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}
			ad := NewAdapter(cfg, lora, 5)
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
			ids := [][]int32{make([]int32, 13), make([]int32, 9)}
			for _, row := range ids {
				for i := range row {
					row[i] = int32(rng.IntN(cfg.VocabSize))
				}
			}
			padded := make([][]int32, len(ids)) // right padding with 0, as Runner does
			for b, row := range ids {
				padded[b] = append(append([]int32{}, row...), make([]int32, 13-len(row))...)
			}
			targets, weights := ShiftTargets(ids, []int{1, 4})
			zero := [][]float32{make([]float32, 13), make([]float32, 13)}

			names, aNames := params.Names(), ad.Params.Names()
			for _, chunkRows := range []int{1, 5, 7} {
				e, err := graph.NewExec(be, func(in []*graph.Node) []*graph.Node {
					idsN, tg, wt := in[0], in[1], in[2]
					w := Bind(names, in[3:3+len(names)])
					aN := in[3+len(names) : 3+len(names)+len(aNames)]
					dN := in[3+len(names)+len(aNames)]
					hidden := Hidden(cfg, w, idsN, ForwardOptions{LoRA: &lora, Adapter: Bind(aNames, aN), HiddenDelta: dN})
					wrt := append(append([]*graph.Node{}, aN...), dN)
					var out []*graph.Node
					for _, loss := range []*graph.Node{
						CausalLMLoss(Logits(cfg, w, hidden), tg, wt),
						ChunkedLMLoss(cfg, w, hidden, tg, wt, chunkRows*cfg.VocabSize),
					} {
						out = append(out, loss)
						out = append(out, graph.Gradient(loss, wrt...)...)
					}
					return out
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, wts := range [][][]float32{weights, zero} {
					args := []any{tensors.FromValue(padded), tensors.FromValue(targets), tensors.FromValue(wts)}
					for _, p := range params.Tensors() {
						args = append(args, p)
					}
					for _, p := range ad.Params.Tensors() {
						args = append(args, p)
					}
					args = append(args, tensors.FromFlatDataAndDimensions(delta, cfg.HiddenSize))
					out, err := e.Call(args...)
					if err != nil {
						t.Fatal(err)
					}
					k := len(out) / 2
					plain, chunked := tensors.MustCopyFlatData[float32](out[0])[0], tensors.MustCopyFlatData[float32](out[k])[0]
					allZero := &wts[0] == &zero[0]
					if allZero && (plain != 0 || chunked != 0) {
						t.Errorf("rows of %d, zero weights: loss %g (unchunked %g), want 0", chunkRows, chunked, plain)
					}
					if !allZero && (plain < 1 || math.Abs(float64(chunked-plain)) > 1e-6*float64(plain)) {
						t.Errorf("rows of %d: loss %.7f, unchunked %.7f", chunkRows, chunked, plain)
					}
					worst := 0.0
					for i := 1; i < k; i++ {
						want := tensors.MustCopyFlatData[float32](out[i])
						got := tensors.MustCopyFlatData[float32](out[k+i])
						norm := 0.0
						for _, v := range want {
							norm += float64(v) * float64(v)
						}
						if !allZero && norm == 0 {
							t.Fatalf("gradient %d is zero: the comparison would prove nothing", i)
						}
						worst = math.Max(worst, relErr(got, want))
					}
					if worst > 2e-5 {
						t.Errorf("rows of %d (zero weights %v): worst gradient rel.err %.3g > 2e-5", chunkRows, allZero, worst)
					}
					t.Logf("rows of %d (zero weights %v): loss %.6f, worst gradient rel.err %.3g", chunkRows, allZero, chunked, worst)
				}
			}
		})
	}
}
