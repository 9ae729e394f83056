package meta_test

import (
	"context"
	"errors"
	"testing"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/metatest"
	_ "github.com/degaml/workbench/core/meta/methods"
)

func TestRegistryNamesAndDefaults(t *testing.T) {
	names := meta.Names()
	for _, want := range []string{meta.Base, meta.NoMetaLoRA, meta.UnionLoRA, meta.MAMLEnLLM, meta.ABMLL} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Names() = %v lacks %s", names, want)
		}
	}
	if names[0] != meta.Base {
		t.Errorf("Names() not in table order: %v", names)
	}
	if _, err := meta.New("nope", meta.Options{}); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := meta.New(meta.MAMLEnLLM, meta.Options{MAML: meta.MAMLOptions{InnerOpt: "lbfgs"}}); err == nil {
		t.Error("bad inner optimizer accepted")
	}
	if _, err := meta.New(meta.DeGAML, meta.Options{DeGAML: meta.DeGAMLOptions{GenDecoder: "mlp"}}); err == nil {
		t.Error("unknown generator decoder accepted")
	}
	if _, err := meta.New(meta.DeGAML, meta.Options{DeGAML: meta.DeGAMLOptions{MixMode: "halves"}}); err == nil {
		t.Error("unknown mixing variant accepted")
	}
	dg := meta.DefaultDeGAMLOptions()
	if dg.AdaptTopK != 2 || dg.GenDecoder != meta.GenRidge || dg.GenSelect != meta.GenSelectAccuracy || dg.EmbedKind != meta.EmbedBOW || dg.MixMode != meta.MixDelta || dg.CollectEvery != 1 || dg.HeldOutEvery != 0 {
		t.Errorf("degaml defaults %+v", dg)
	}
	d := meta.DefaultOptions()
	if d.MAML.InnerOpt != "adam-shared" || d.MAML.AdaptSteps != d.MAML.InnerSteps || d.ABMLL.Predict != "mc" || d.NoMeta.Steps == 0 {
		t.Errorf("defaults %+v", d)
	}
	for _, n := range names {
		m, err := meta.New(n, meta.Options{})
		if err != nil {
			t.Fatalf("New(%s): %v", n, err)
		}
		if m.Name() != n {
			t.Errorf("New(%s).Name() = %s", n, m.Name())
		}
	}
}

// TestMethodsHonourCancellation: a cancelled context stops every method
// before it trains.
func TestMethodsHonourCancellation(t *testing.T) {
	env := metatest.ToyEnv(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pool := metatest.ToyPool(2, 0)
	for _, name := range []string{meta.NoMetaLoRA, meta.UnionLoRA, meta.MAMLEnLLM, meta.ABMLL} {
		m, err := meta.New(name, meta.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.MetaTrain(ctx, env, pool); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s MetaTrain: %v, want context.Canceled", name, err)
		}
		if name == meta.NoMetaLoRA {
			if _, err := m.Adapt(ctx, env, nil, pool[0], 1); !errors.Is(err, context.Canceled) {
				t.Errorf("%s Adapt: %v, want context.Canceled", name, err)
			}
		}
	}
}
