package meta

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

func TestZZTiming(t *testing.T) {
	if os.Getenv("META_TIMING") == "" {
		t.Skip("timing run")
	}
	cfg, _ := models.PresetConfig("nano")
	env := &Env{Backend: testBackendMeta(t), Model: &models.Model{Config: cfg, Params: models.NewRandom(cfg, 3), Tokenizer: tokenizer.NewByte()},
		LoRA:    models.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}},
		Publish: func(e events.Event) { if e.Kind == events.Step { t.Logf("%s %s %d ms=%.0f", e.Method, e.Phase, e.Step, e.MS) } }}
	var pool []*tasks.Task
	for _, f := range suites.All() {
		if f.Role() == tasks.InDomain {
			for i := range 4 {
				pool = append(pool, f.Instance(1, i, ""))
			}
		}
	}
	test := pool[0]
	for _, name := range []string{MAMLEnLLM} {
		o := Options{}
		o.MAML.MetaSteps, o.ABMLL.MetaSteps = 5, 5
		o.MAML.AdaptSteps = 8
		m, _ := New(name, o)
		st := time.Now()
		art, err := m.MetaTrain(context.Background(), env, pool)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: 5 meta-steps %.2fs", name, time.Since(st).Seconds())
		st = time.Now()
		if _, err := m.Adapt(context.Background(), env, art, test, 1); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: adapt %.2fs", name, time.Since(st).Seconds())
	}
	t.Logf("len %d", encodeBatch(env, test.Splits.Train[:4], true).batchLen())
	return
	m, _ := New(NoMetaLoRA, Options{})
	st := time.Now()
	if _, err := m.Adapt(context.Background(), env, nil, test, 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("nometa: adapt %.2fs", time.Since(st).Seconds())
	u, _ := New(UnionLoRA, Options{Union: LoRATrainOptions{Steps: 20}})
	st = time.Now()
	if _, err := u.MetaTrain(context.Background(), env, pool); err != nil {
		t.Fatal(err)
	}
	t.Logf("union: 20 steps %.2fs", time.Since(st).Seconds())
}
