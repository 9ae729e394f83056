package lora

import (
	"context"
	"testing"

	"github.com/degaml/workbench/core/meta/internal/metatest"

	"github.com/degaml/workbench/core/meta"

	"github.com/gomlx/gomlx/core/tensors"
)

func TestNoMetaLoRAReducesSupportLoss(t *testing.T) {
	env := metatest.ToyEnv(t, 4)
	rec := &metatest.StepRecorder{}
	env.Publish = rec.Publish
	m, err := meta.New(meta.NoMetaLoRA, meta.Options{NoMeta: meta.LoRATrainOptions{Steps: 20, LR: 1e-2, Batch: 8}})
	if err != nil {
		t.Fatal(err)
	}
	task := metatest.ToyPool(1, 3)[0]
	ad, err := m.Adapt(context.Background(), env, nil, task, 1)
	if err != nil {
		t.Fatal(err)
	}
	st := rec.Steps["inner"]
	if len(st) != 20 {
		t.Fatalf("got %d inner steps, want 20", len(st))
	}
	for i, e := range st {
		if e.Method != meta.NoMetaLoRA || e.Task != task.Name || e.Step != i+1 || e.Total != 20 || e.SupportLoss == nil || e.LR == nil {
			t.Fatalf("step event %d malformed: %+v", i, e)
		}
	}
	first, last := *st[0].SupportLoss, *st[len(st)-1].SupportLoss
	t.Logf("support loss %.4f → %.4f; final val loss %v acc %v", first, last, metatest.Deref(st[len(st)-1].QueryLoss), metatest.Deref(st[len(st)-1].Accuracy))
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
	env := metatest.ToyEnv(t, 2)
	m, err := meta.New(meta.UnionLoRA, meta.Options{Union: meta.LoRATrainOptions{Steps: 3, Batch: 4}})
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
	a1, err := m.Adapt(context.Background(), env, art2, metatest.ToyPool(1, 600)[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := m.Adapt(context.Background(), env, art2, metatest.ToyPool(1, 601)[0], 2)
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
