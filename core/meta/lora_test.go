package meta

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
)

// stepRecorder collects Step events by phase.
type stepRecorder struct {
	mu    sync.Mutex
	steps map[string][]events.Event
}

func (r *stepRecorder) publish(e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Kind == events.Step {
		if r.steps == nil {
			r.steps = map[string][]events.Event{}
		}
		r.steps[e.Phase] = append(r.steps[e.Phase], e)
	}
}

func TestNoMetaLoRAReducesSupportLoss(t *testing.T) {
	env := toyEnv(t, 4)
	rec := &stepRecorder{}
	env.Publish = rec.publish
	m, err := New(NoMetaLoRA, Options{NoMeta: LoRATrainOptions{Steps: 20, LR: 1e-2, Batch: 8}})
	if err != nil {
		t.Fatal(err)
	}
	task := toyPool(1, 3)[0]
	ad, err := m.Adapt(context.Background(), env, nil, task, 1)
	if err != nil {
		t.Fatal(err)
	}
	st := rec.steps["inner"]
	if len(st) != 20 {
		t.Fatalf("got %d inner steps, want 20", len(st))
	}
	for i, e := range st {
		if e.Method != NoMetaLoRA || e.Task != task.Name || e.Step != i+1 || e.Total != 20 || e.SupportLoss == nil || e.LR == nil {
			t.Fatalf("step event %d malformed: %+v", i, e)
		}
	}
	first, last := *st[0].SupportLoss, *st[len(st)-1].SupportLoss
	t.Logf("support loss %.4f → %.4f; final val loss %v acc %v", first, last, deref(st[len(st)-1].QueryLoss), deref(st[len(st)-1].Accuracy))
	if !(last < 0.7*first) {
		t.Errorf("support loss did not drop: %.4f → %.4f", first, last)
	}
	if st[len(st)-1].QueryLoss == nil || st[len(st)-1].Accuracy == nil {
		t.Errorf("last step lacks the val loss/accuracy")
	}
	// Training moved B away from its zero init.
	moved := false
	for n, p := range ad.Adapter.Params {
		if n[len(n)-1] == 'B' {
			for _, v := range tensors.MustCopyFlatData[float32](p) {
				moved = moved || v != 0
			}
		}
	}
	if !moved {
		t.Error("adapter B tensors are still zero")
	}
}

func TestUnionLoRAReturnsSharedAdapter(t *testing.T) {
	env := toyEnv(t, 2)
	m, err := New(UnionLoRA, Options{Union: LoRATrainOptions{Steps: 3, Batch: 4}})
	if err != nil {
		t.Fatal(err)
	}
	art, err := m.MetaTrain(context.Background(), env, toyPool(3, 0))
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
	a1, err := m.Adapt(context.Background(), env, art2, toyPool(1, 600)[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := m.Adapt(context.Background(), env, art2, toyPool(1, 601)[0], 2)
	if err != nil {
		t.Fatal(err)
	}
	want := art.(*adapterArtifact).Adapter.Params
	for n, p := range want {
		w := tensors.MustCopyFlatData[float32](p)
		for _, got := range []*tensors.Tensor{a1.Adapter.Params[n], a2.Adapter.Params[n]} {
			g := tensors.MustCopyFlatData[float32](got)
			for i := range w {
				if g[i] != w[i] {
					t.Fatalf("%s[%d]: adapted %v, shared %v", n, i, g[i], w[i])
				}
			}
		}
	}
}

func TestRegistryNamesAndDefaults(t *testing.T) {
	names := Names()
	for _, want := range []string{Base, NoMetaLoRA, UnionLoRA, MAMLEnLLM, ABMLL} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Names() = %v lacks %s", names, want)
		}
	}
	if names[0] != Base {
		t.Errorf("Names() not in table order: %v", names)
	}
	if _, err := New("nope", Options{}); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := New(MAMLEnLLM, Options{MAML: MAMLOptions{InnerOpt: "lbfgs"}}); err == nil {
		t.Error("bad inner optimizer accepted")
	}
	if _, err := New(DeGAML, Options{DeGAML: DeGAMLOptions{GenDecoder: "mlp"}}); err == nil {
		t.Error("unknown generator decoder accepted")
	}
	if _, err := New(DeGAML, Options{DeGAML: DeGAMLOptions{MixMode: "halves"}}); err == nil {
		t.Error("unknown mixing variant accepted")
	}
	dg := DefaultDeGAMLOptions()
	if dg.AdaptTopK != 2 || dg.GenDecoder != GenRidge || dg.GenSelect != GenSelectAccuracy || dg.EmbedKind != EmbedBOW || dg.MixMode != MixDelta || dg.CollectEvery != 1 || dg.HeldOutEvery != 0 {
		t.Errorf("degaml defaults %+v", dg)
	}
	d := DefaultOptions()
	if d.MAML.InnerOpt != "adam-shared" || d.MAML.AdaptSteps != d.MAML.InnerSteps || d.ABMLL.Predict != "mc" || d.NoMeta.Steps == 0 {
		t.Errorf("defaults %+v", d)
	}
	for _, n := range names {
		m, err := New(n, Options{})
		if err != nil {
			t.Fatalf("New(%s): %v", n, err)
		}
		if m.Name() != n {
			t.Errorf("New(%s).Name() = %s", n, m.Name())
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestMethodsHonourCancellation: a cancelled context stops every method
// before it trains.
func TestMethodsHonourCancellation(t *testing.T) {
	env := toyEnv(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pool := toyPool(2, 0)
	for _, name := range []string{NoMetaLoRA, UnionLoRA, MAMLEnLLM, ABMLL} {
		m, err := New(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.MetaTrain(ctx, env, pool); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s MetaTrain: %v, want context.Canceled", name, err)
		}
		if name == NoMetaLoRA {
			if _, err := m.Adapt(ctx, env, nil, pool[0], 1); !errors.Is(err, context.Canceled) {
				t.Errorf("%s Adapt: %v, want context.Canceled", name, err)
			}
		}
	}
}
