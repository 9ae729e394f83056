package pipeline

import (
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/meta"
)

// [adapt] inner_steps is every gradient method's test-time budget: abmll's
// test-time refinement takes it, while its meta-training keeps its own
// [methods.abmll] inner_steps (as MAML-en-LLM's does).
func TestAdaptInnerStepsIsABMLLsTestTimeBudget(t *testing.T) {
	var cfg config.Config
	cfg.Adapt.InnerSteps = 10
	cfg.Methods.ABMLL.InnerSteps = 2
	o := MethodOptions(&cfg)
	if o.ABMLL.AdaptSteps != 10 || o.ABMLL.InnerSteps != 2 {
		t.Fatalf("abmll AdaptSteps %d InnerSteps %d, want 10 and 2", o.ABMLL.AdaptSteps, o.ABMLL.InnerSteps)
	}
	if o.MAML.AdaptSteps != o.ABMLL.AdaptSteps {
		t.Fatalf("maml-en-llm adapts %d steps, abmll %d: unequal budgets", o.MAML.AdaptSteps, o.ABMLL.AdaptSteps)
	}
	if s, _ := applied(meta.ABMLL, o); s != 10 {
		t.Fatalf("applied abmll steps %d, want 10", s)
	}
	k := withKnobs(o, api.Knobs{InnerSteps: 3})
	if k.ABMLL.AdaptSteps != 3 || k.ABMLL.InnerSteps != 2 {
		t.Fatalf("knob: abmll AdaptSteps %d InnerSteps %d, want 3 and 2", k.ABMLL.AdaptSteps, k.ABMLL.InnerSteps)
	}
	if s, _ := applied(meta.ABMLL, k); s != 3 {
		t.Fatalf("applied abmll steps under the knob %d, want 3", s)
	}
	// Without [adapt] inner_steps the test-time budget defaults to the
	// meta-training one.
	var bare config.Config
	bare.Methods.ABMLL.InnerSteps = 4
	if s, _ := applied(meta.ABMLL, MethodOptions(&bare)); s != 4 {
		t.Fatalf("applied abmll steps with no [adapt] budget %d, want 4", s)
	}
}

// The budget AdaptStarted reports is the one the method runs with: meta's
// defaults, including those that depend on another option (a plain SGD inner
// step defaults to lr 0.1, Adam's to 3e-3), and nothing for methods without
// gradient steps.
func TestAppliedReportsTheFilledBudget(t *testing.T) {
	for _, c := range []struct {
		method string
		o      meta.Options
		steps  int
		lr     float64
	}{
		{meta.MAMLEnLLM, meta.Options{MAML: meta.MAMLOptions{InnerOpt: "sgd", InnerSteps: 3}}, 3, 0.1},
		{meta.MAMLEnLLM, meta.Options{}, 2, 3e-3},
		{meta.NoMetaLoRA, meta.Options{NoMeta: meta.LoRATrainOptions{LR: 0.05}}, 40, 0.05},
		{meta.UnionLoRA, meta.Options{}, 0, 0},
	} {
		if s, lr := applied(c.method, c.o); s != c.steps || lr != c.lr {
			t.Errorf("applied(%s, %+v) = %d, %g; want %d, %g", c.method, c.o, s, lr, c.steps, c.lr)
		}
	}
}
