package maml

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/degaml/workbench/core/meta/internal/metatest"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/safetensors"
)

func relErr64(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-30)
}

// idsBatch turns reference ids [B,T] into a batch whose loss counts every
// next token (HF causal-LM loss).
func idsBatch(t *testing.T, ref map[string]safetensors.Tensor, name string) *train.Batch {
	t.Helper()
	x, ok := ref[name]
	if !ok {
		t.Fatalf("reference has no %s", name)
	}
	B, T := x.Shape[0], x.Shape[1]
	seqs := make([][]int32, B)
	from := make([]int, B)
	for b := range B {
		seqs[b] = make([]int32, T)
		for i := range T {
			seqs[b][i] = int32(x.I64[b*T+i])
		}
		from[b] = 1
	}
	b, err := train.MakeBatch(seqs, from, train.AdaptBucket, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMAMLMatchesHFReference checks the second-order meta-gradient, the
// first-order gradient and the post-adaptation query loss against PyTorch
// (one plain-SGD inner step on the support batch) for Qwen2 and Llama.
func TestMAMLMatchesHFReference(t *testing.T) {
	dir := testref.Dir(t)
	ref, _, err := safetensors.ReadFile(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"qwen2", "llama"} {
		t.Run(kind, func(t *testing.T) {
			m, err := models.LoadHF(filepath.Join(dir, "tiny-"+kind))
			if err != nil {
				t.Fatal(err)
			}
			loraDir := filepath.Join(dir, "tiny-"+kind+"-lora")
			ad, err := models.LoadPEFT(loraDir)
			if err != nil {
				t.Fatal(err)
			}
			var pn []struct {
				SavedAs string `json:"saved_as"`
			}
			data, err := os.ReadFile(filepath.Join(loraDir, "param_names.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &pn); err != nil {
				t.Fatal(err)
			}
			names := ad.Params.Names()
			if len(pn) != len(names) {
				t.Fatalf("param_names.json has %d entries, adapter %d tensors", len(pn), len(names))
			}
			refName := map[string]string{} // our name → reference suffix
			for _, p := range pn {
				refName[strings.TrimSuffix(p.SavedAs, ".weight")] = p.SavedAs
			}
			support, query := idsBatch(t, ref, kind+".support_ids"), idsBatch(t, ref, kind+".query_ids")
			lr := float64(ref[kind+".maml.inner_lr"].F32[0])
			baseNames := m.Params.Names()
			nb, na := len(baseNames), len(names)
			for _, fo := range []bool{false, true} {
				mg := MAMLGraph{Model: m.Config, LoRA: ad.Config, Names: names,
					Inner: InnerConfig{Steps: 1, LR: lr, Opt: "sgd", FirstOrder: fo}}
				exec, err := NewExec(metatest.Backend(t), func(in []*Node) []*Node {
					base := models.Bind(baseNames, in[:nb])
					batches := []TaskBatches{{Support: train.BindBatch(in[nb+na:]), Query: train.BindBatch(in[nb+na+3:])}}
					grads, q, _, _ := mg.MetaGradient(base, in[nb:nb+na], Moments{}, batches)
					return append(grads, q)
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(kit.Anys(m.Params.Tensors(), ad.Params.Tensors(), support.Tensors(), query.Tensors())...)
				if err != nil {
					t.Fatal(err)
				}
				q := kit.ScalarF(out[na])
				want := float64(ref[kind+".maml.query_loss_after"].F32[0])
				if math.Abs(q-want) > 1e-4*math.Abs(want) {
					t.Errorf("fo=%v: query loss after adaptation %.7f, reference %.7f", fo, q, want)
				}
				key := kind + ".maml.meta_grad."
				if fo {
					key = kind + ".maml.fo_grad."
				}
				worst := 0.0
				for i, n := range names {
					r, ok := ref[key+refName[n]]
					if !ok {
						t.Fatalf("reference has no %s", key+refName[n])
					}
					e := relErr64(tensors.MustCopyFlatData[float32](out[i]), r.F32)
					worst = math.Max(worst, e)
					if e > 1e-3 {
						t.Errorf("fo=%v %s: relative error %.2e", fo, n, e)
					}
				}
				t.Logf("%s fo=%v: query loss %.6f (ref %.6f), worst gradient rel. err %.2e", kind, fo, q, want, worst)
			}
			// The meta- and first-order gradients must differ (else the test could not tell them apart).
			a, b := ref[kind+".maml.meta_grad."+refName[names[0]]].F32, ref[kind+".maml.fo_grad."+refName[names[0]]].F32
			if relErr64(a, b) < 1e-4 {
				t.Errorf("reference meta_grad and fo_grad coincide; the test cannot distinguish orders")
			}
		})
	}
}

// TestMAMLMetaTrainReducesQueryLoss runs a few meta-steps of maml-en-llm
// (shared-Adam inner loop, second order) on a toy family and checks that the
// post-adaptation query loss goes down and that Adapt streams inner Steps.
func TestMAMLMetaTrainReducesQueryLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-training run")
	}
	env := metatest.ToyEnv(t, 4)
	var mu sync.Mutex
	var outer, inner []events.Event
	env.Publish = func(e events.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == events.Step && e.Phase == "outer" {
			outer = append(outer, e)
		}
		if e.Kind == events.Step && e.Phase == "inner" {
			inner = append(inner, e)
		}
	}
	pool := metatest.ToyPool(8, 0)
	meth, err := meta.New(meta.MAMLEnLLM, meta.Options{MAML: meta.MAMLOptions{MetaSteps: 16, TasksPerStep: 2, InnerSteps: 1, InnerLR: 3e-3, OuterLR: 1e-2, Support: 4, Query: 4}})
	if err != nil {
		t.Fatal(err)
	}
	art, err := meth.MetaTrain(context.Background(), env, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(outer) < 12 {
		t.Fatalf("got %d outer steps, want most of 16", len(outer))
	}
	first := (*outer[0].QueryLoss + *outer[1].QueryLoss + *outer[2].QueryLoss) / 3
	n := len(outer)
	last := (*outer[n-1].QueryLoss + *outer[n-2].QueryLoss + *outer[n-3].QueryLoss) / 3
	t.Logf("post-adaptation query loss: first 3 steps %.4f → last 3 %.4f", first, last)
	if !(last < first-0.05) {
		t.Errorf("meta-training did not reduce the query loss: %.4f → %.4f", first, last)
	}
	dir := t.TempDir()
	if err := art.Save(dir); err != nil {
		t.Fatal(err)
	}
	art2, err := meth.LoadArtifact(dir)
	if err != nil {
		t.Fatal(err)
	}
	ad, err := meth.Adapt(context.Background(), env, art2, metatest.ToyPool(1, 600)[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	if ad.Adapter == nil || len(inner) != 1 || inner[0].SupportLoss == nil || inner[0].QueryLoss == nil || inner[0].Task == "" {
		t.Fatalf("Adapt: adapter %v, inner events %+v", ad.Adapter != nil, inner)
	}
}

// TestMAMLSharedAdamSecondOrderFiniteDifference checks the second-order
// meta-gradient through two shared-Adam inner steps (non-zero incoming
// moments, some v = 0 entries) against central differences, in float64, on a
// LoRA-like toy loss: W = B·A applied to batch inputs X, squared error to Y.
func TestMAMLSharedAdamSecondOrderFiniteDifference(t *testing.T) {
	names := []string{"a", "b"}
	toyLoss := func(_ models.Weights, p []*Node, b train.BatchNodes) *Node {
		w := MatMul(p[1], p[0]) // [3,3]
		return ReduceAllMean(Square(Sub(MatMul(b.IDs, Transpose(w, 0, 1)), b.Targets)))
	}
	for _, opt := range []string{"adam-shared", "sgd"} {
		mg := MAMLGraph{Names: names, Inner: InnerConfig{Steps: 2, LR: 0.05, Opt: opt, Adam: train.DefaultAdam()}, Loss: toyLoss}
		exec, err := NewExec(metatest.Backend(t), func(in []*Node) []*Node {
			m := Moments{M: in[2:4], V: in[4:6], Step: in[6]}
			batches := []TaskBatches{{Support: train.BatchNodes{IDs: in[7], Targets: in[8]}, Query: train.BatchNodes{IDs: in[9], Targets: in[10]}}}
			g, q, _, _ := mg.MetaGradient(nil, in[:2], m, batches)
			return append([]*Node{q}, g...)
		})
		if err != nil {
			t.Fatal(err)
		}
		theta := [][]float64{{0.3, -0.2, 0.5, 0.1, 0.4, -0.6}, {0.2, -0.1, 0.05, 0.3, -0.4, 0.1}}
		dims := [][]int{{2, 3}, {3, 2}}
		mom := []any{
			tensors.FromFlatDataAndDimensions([]float64{1e-2, 0, -3e-2, 2e-2, 0, 1e-2}, 2, 3),
			tensors.FromFlatDataAndDimensions([]float64{0, 1e-2, 2e-2, -1e-2, 0, 3e-2}, 3, 2),
			tensors.FromFlatDataAndDimensions([]float64{1e-3, 0, 2e-3, 1e-4, 0, 5e-4}, 2, 3),
			tensors.FromFlatDataAndDimensions([]float64{0, 1e-3, 2e-4, 1e-3, 0, 5e-4}, 3, 2),
			3.0,
		}
		data := []any{
			[][]float64{{1, -0.5, 0.3}, {0.2, 0.8, -1}}, [][]float64{{0.5, 0, 1}, {-1, 0.3, 0.2}},
			[][]float64{{0.4, 0.1, -0.7}, {-0.3, 0.9, 0.5}}, [][]float64{{0, 1, -0.5}, {0.7, -0.2, 0.1}},
		}
		call := func() []*tensors.Tensor {
			args := []any{tensors.FromFlatDataAndDimensions(append([]float64(nil), theta[0]...), dims[0]...),
				tensors.FromFlatDataAndDimensions(append([]float64(nil), theta[1]...), dims[1]...)}
			out, err := exec.Exec(append(append(args, mom...), data...)...)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		out := call()
		const h = 1e-6
		worst := 0.0
		for i := range theta {
			g := tensors.MustCopyFlatData[float64](out[1+i])
			for k := range theta[i] {
				orig := theta[i][k]
				theta[i][k] = orig + h
				up := call()[0].Value().(float64)
				theta[i][k] = orig - h
				dn := call()[0].Value().(float64)
				theta[i][k] = orig
				fd := (up - dn) / (2 * h)
				e := math.Abs(fd-g[k]) / math.Max(1e-7, math.Abs(fd)+math.Abs(g[k]))
				worst = math.Max(worst, e)
				if e > 1e-5 {
					t.Errorf("%s %s[%d]: analytic %.10g, finite difference %.10g", opt, names[i], k, g[k], fd)
				}
			}
		}
		t.Logf("%s: worst relative error %.2e", opt, worst)
	}
}

// TestMAMLSGDFirstOrderRuns covers the plain-SGD, first-order variant end to
// end (meta-steps, artifact round trip, test-time inner steps).
func TestMAMLSGDFirstOrderRuns(t *testing.T) {
	env := metatest.ToyEnv(t, 2)
	rec := &metatest.StepRecorder{}
	env.Publish = rec.Publish
	m, err := meta.New(meta.MAMLEnLLM, meta.Options{MAML: meta.MAMLOptions{MetaSteps: 2, TasksPerStep: 2, InnerSteps: 2, AdaptSteps: 3, InnerOpt: "sgd", FirstOrder: true}})
	if err != nil {
		t.Fatal(err)
	}
	art, err := m.MetaTrain(context.Background(), env, metatest.ToyPool(3, 0))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := art.Save(dir); err != nil {
		t.Fatal(err)
	}
	art2, err := m.LoadArtifact(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a := art2.(*mamlArtifact); a.Opt != "sgd" || a.Step != 2 {
		t.Errorf("artifact: opt %q step %v, want sgd and 2 outer updates", a.Opt, a.Step)
	}
	if _, err := m.Adapt(context.Background(), env, art2, metatest.ToyPool(1, 700)[0], 1); err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps["outer"]) != 2 || len(rec.Steps["inner"]) != 3 {
		t.Errorf("events: %d outer, %d inner", len(rec.Steps["outer"]), len(rec.Steps["inner"]))
	}
	for _, e := range rec.Steps["inner"] {
		if e.Method != meta.MAMLEnLLM || e.Phase != "inner" || e.Total != 3 || e.SupportLoss == nil || e.QueryLoss == nil || e.LR == nil || *e.LR != 0.1 {
			t.Errorf("inner event %+v", e)
		}
	}
}
