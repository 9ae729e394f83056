package models

import (
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Tests in this file compare against ../shared/hf-reference (HF transformers + PEFT ground truth).

var hfrefKinds = []string{"qwen2", "llama"}

func hfrefBackend(t testing.TB) compute.Backend { return testref.Backend(t) }

type hfrefKind struct {
	model   *Model
	adapter *Adapter
	runner  *Runner
}

var (
	hfrefMu     sync.Mutex
	hfrefTs     map[string]safetensors.Tensor
	hfrefModels = map[string]*hfrefKind{}
)

// hfrefLoad loads (once) the reference tensors and the model + adapter of kind.
func hfrefLoad(t *testing.T, kind string) (*hfrefKind, map[string]safetensors.Tensor) {
	t.Helper()
	dir := testref.Dir(t)
	hfrefMu.Lock()
	defer hfrefMu.Unlock()
	if hfrefTs == nil {
		ts, _, err := safetensors.ReadFile(filepath.Join(dir, "reference.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		hfrefTs = ts
	}
	if k, ok := hfrefModels[kind]; ok {
		return k, hfrefTs
	}
	m, err := LoadHF(filepath.Join(dir, "tiny-"+kind))
	if err != nil {
		t.Fatal(err)
	}
	a, err := LoadPEFT(filepath.Join(dir, "tiny-"+kind+"-lora"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(m.Config); err != nil {
		t.Fatal(err)
	}
	k := &hfrefKind{model: m, adapter: a, runner: NewRunner(hfrefBackend(t), m.Config)}
	hfrefModels[kind] = k
	return k, hfrefTs
}

func hfrefTensor(t *testing.T, ts map[string]safetensors.Tensor, name string) safetensors.Tensor {
	t.Helper()
	v, ok := ts[name]
	if !ok {
		t.Fatalf("reference tensor %q missing", name)
	}
	return v
}

func hfrefIDs(t *testing.T, ts map[string]safetensors.Tensor, name string) [][]int32 {
	t.Helper()
	v := hfrefTensor(t, ts, name)
	T := v.Shape[len(v.Shape)-1]
	var rows [][]int32
	for off := 0; off < len(v.I64); off += T {
		row := make([]int32, T)
		for i := range row {
			row[i] = int32(v.I64[off+i])
		}
		rows = append(rows, row)
	}
	return rows
}

func hfrefScalar(t *testing.T, ts map[string]safetensors.Tensor, name string) float64 {
	t.Helper()
	return float64(hfrefTensor(t, ts, name).F32[0])
}

// relErr is ‖a−b‖/‖b‖ in float64 (+Inf on a length mismatch; ‖a−b‖ when b is zero). Shared by the tests of
// this package.
func relErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// hfrefArgmax returns the first index of the maximum, like torch.argmax.
func hfrefArgmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func flatten(x [][]float32) []float32 {
	var out []float32
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}

func hfrefCases(ts map[string]safetensors.Tensor, kind string) []int {
	var cases []int
	for i := 0; ; i++ {
		if _, ok := ts[fmt.Sprintf("%s.case%d.input_ids", kind, i)]; !ok {
			return cases
		}
		cases = append(cases, i)
	}
}

func TestHFLogitsAndGreedy(t *testing.T) {
	for _, kind := range hfrefKinds {
		t.Run(kind, func(t *testing.T) {
			k, ts := hfrefLoad(t, kind)
			cases := hfrefCases(ts, kind)
			if len(cases) == 0 {
				t.Fatal("no reference cases")
			}
			for _, c := range cases {
				pre := fmt.Sprintf("%s.case%d.", kind, c)
				ids := hfrefIDs(t, ts, pre+"input_ids")
				logits, err := k.runner.Logits(k.model.Params, nil, ids)
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(flatten(logits[0]), hfrefTensor(t, ts, pre+"logits").F32); e > 1e-4 {
					t.Errorf("case%d logits rel.err %.3g > 1e-4", c, e)
				} else {
					t.Logf("case%d logits rel.err %.3g", c, e)
				}
				// Greedy continuation by repeated full forward (the KV-cache path is tested in generate).
				want := hfrefTensor(t, ts, pre+"greedy12").I64
				seq := append([]int32{}, ids[0]...)
				for step := range want {
					lg, err := k.runner.Logits(k.model.Params, nil, [][]int32{seq})
					if err != nil {
						t.Fatal(err)
					}
					next := hfrefArgmax(lg[0][len(seq)-1])
					if int64(next) != want[step] {
						t.Fatalf("case%d greedy step %d: got %d, want %d", c, step, next, want[step])
					}
					seq = append(seq, int32(next))
				}
			}
		})
	}
}

func TestHFSupportLossAndLoRA(t *testing.T) {
	for _, kind := range hfrefKinds {
		t.Run(kind, func(t *testing.T) {
			k, ts := hfrefLoad(t, kind)
			support := hfrefIDs(t, ts, kind+".support_ids")
			loss, err := k.runner.Loss(k.model.Params, nil, support, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := hfrefScalar(t, ts, kind+".support_loss"); math.Abs(float64(loss)-want) > 1e-5*math.Max(1, want) {
				t.Errorf("support loss %.7f, want %.7f", loss, want)
			}

			ids := hfrefIDs(t, ts, kind+".case0.input_ids")
			logits, err := k.runner.Logits(k.model.Params, k.adapter, ids)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(flatten(logits[0]), hfrefTensor(t, ts, kind+".lora.case0.logits").F32); e > 1e-4 {
				t.Errorf("lora logits rel.err %.3g > 1e-4", e)
			}

			loss, grads, err := k.runner.LossAndGrad(k.model.Params, k.adapter, support, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := hfrefScalar(t, ts, kind+".lora.support_loss"); math.Abs(float64(loss)-want) > 1e-5*math.Max(1, want) {
				t.Errorf("lora support loss %.7f, want %.7f", loss, want)
			}
			if len(grads) != 28 {
				t.Errorf("%d gradients, want 28", len(grads))
			}
			worst := 0.0
			for _, n := range grads.Names() {
				e := relErr(grads.Float32s(n), hfrefTensor(t, ts, kind+".lora.grad_support."+n+".weight").F32)
				worst = math.Max(worst, e)
				if e > 1e-3 {
					t.Errorf("grad %s rel.err %.3g > 1e-3", n, e)
				}
			}
			t.Logf("worst LoRA gradient rel.err %.3g", worst)
		})
	}
}

// TestHFMAMLSecondOrder builds adapted = lora − lr·∇support_loss inside one graph and differentiates the query
// loss through it, proving that the graph functions support exact second-order gradients.
func TestHFMAMLSecondOrder(t *testing.T) {
	for _, kind := range hfrefKinds {
		t.Run(kind, func(t *testing.T) {
			k, ts := hfrefLoad(t, kind)
			cfg, lora := k.model.Config, k.adapter.Config
			lr := hfrefScalar(t, ts, kind+".maml.inner_lr")
			names, aNames := k.model.Params.Names(), k.adapter.Params.Names()
			exec, err := graph.NewExec(hfrefBackend(t), func(in []*graph.Node) []*graph.Node {
				w := Bind(names, in[6:6+len(names)])
				orig := in[6+len(names):]
				lossOf := func(ids, targets, weights *graph.Node, a []*graph.Node) *graph.Node {
					opt := ForwardOptions{LoRA: &lora, Adapter: Bind(aNames, a)}
					return CausalLMLoss(Forward(cfg, w, ids, opt), targets, weights)
				}
				grads := graph.Gradient(lossOf(in[0], in[1], in[2], orig), orig...)
				adapted := make([]*graph.Node, len(orig))
				for i := range orig {
					adapted[i] = graph.Sub(orig[i], graph.MulScalar(grads[i], lr))
				}
				query := lossOf(in[3], in[4], in[5], adapted)
				out := []*graph.Node{query}
				out = append(out, graph.Gradient(query, orig...)...)     // second order: through the inner step
				return append(out, graph.Gradient(query, adapted...)...) // first order: at adapted, as a constant
			})
			if err != nil {
				t.Fatal(err)
			}
			var args []any
			for _, name := range []string{".support_ids", ".query_ids"} {
				ids := hfrefIDs(t, ts, kind+name)
				targets, weights := ShiftTargets(ids, nil)
				args = append(args, tensors.FromValue(ids), tensors.FromValue(targets), tensors.FromValue(weights))
			}
			for _, tt := range k.model.Params.Tensors() {
				args = append(args, tt)
			}
			for _, tt := range k.adapter.Params.Tensors() {
				args = append(args, tt)
			}
			out, err := exec.Call(args...)
			if err != nil {
				t.Fatal(err)
			}
			q := float64(tensors.MustCopyFlatData[float32](out[0])[0])
			if want := hfrefScalar(t, ts, kind+".maml.query_loss_after"); math.Abs(q-want) > 1e-5*math.Max(1, want) {
				t.Errorf("query loss after %.7f, want %.7f", q, want)
			}
			worst := 0.0
			for i, n := range aNames {
				for j, which := range []string{"meta_grad", "fo_grad"} {
					got := tensors.MustCopyFlatData[float32](out[1+j*len(aNames)+i])
					e := relErr(got, hfrefTensor(t, ts, kind+".maml."+which+"."+n+".weight").F32)
					worst = math.Max(worst, e)
					if e > 1e-3 {
						t.Errorf("%s %s rel.err %.3g > 1e-3", which, n, e)
					}
				}
			}
			t.Logf("worst MAML gradient rel.err %.3g", worst)
		})
	}
}
