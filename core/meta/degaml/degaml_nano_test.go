package degaml

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// TestDeGAMLNanoBudget measures DeGAML's default meta-training budget on the
// nano preset with the built-in suites (24 instances per in-domain suite, as
// the pipeline). It is a measurement, not a unit test: set DEGAML_NANO=1 (and
// optionally DEGAML_NANO_BASE=<checkpoint dir> for a pretrained base).
func TestDeGAMLNanoBudget(t *testing.T) {
	if os.Getenv("DEGAML_NANO") == "" {
		t.Skip("set DEGAML_NANO=1 to measure the nano budget")
	}
	dgInitBackend(t)
	cfg, err := models.PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	model := &models.Model{Config: cfg, Params: models.NewRandom(cfg, 1), Tokenizer: tokenizer.NewByte()}
	if dir := os.Getenv("DEGAML_NANO_BASE"); dir != "" {
		ck, err := models.LoadCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		model.Config, model.Params = ck.Config, ck.Weights
	}
	phase := map[string]time.Duration{}
	last := time.Now()
	var lastPhase string
	env := &meta.Env{Backend: dgBackend, Model: model,
		LoRA: models.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}},
		Publish: func(e events.Event) {
			if e.Stage != "" && e.Stage != lastPhase {
				now := time.Now()
				phase[lastPhase] += now.Sub(last)
				last, lastPhase = now, e.Stage
			}
			if e.Kind == events.Log || (e.Kind == events.Step && e.Phase == "generator-eval") {
				t.Logf("%s %s %s acc=%v", e.Stage, e.Task, e.Message, fv(e.Accuracy))
			}
		}}
	var pool []*tasks.Task
	var evalTasks []*tasks.Task
	for _, f := range suites.All() {
		if f.Role() != tasks.InDomain {
			continue
		}
		for i := range 24 {
			pool = append(pool, f.Instance(0, i, ""))
		}
		evalTasks = append(evalTasks, f.Instance(0, 501, ""))
	}
	m := NewDeGAML(meta.DeGAMLOptions{}, true)
	start := time.Now()
	art, err := m.MetaTrain(context.Background(), env, pool)
	if err != nil {
		t.Fatal(err)
	}
	phase[lastPhase] += time.Since(last)
	t.Logf("meta-training %.1fs, phases %v", time.Since(start).Seconds(), phase)
	gen := NewDeGAML(meta.DeGAMLOptions{}, false)
	for _, task := range evalTasks[:2] {
		for _, mm := range []meta.Method{gen, m} {
			s := time.Now()
			ad, err := mm.Adapt(context.Background(), env, art, task, 1)
			if err != nil {
				t.Fatal(err)
			}
			acc, _, _, err := meta.Evaluate(context.Background(), env, ad, task.Splits.Test)
			if err != nil {
				t.Fatal(err)
			}
			base, _, _, _ := meta.Evaluate(context.Background(), env, &meta.Adapted{}, task.Splits.Test)
			why := ""
			if ad.Chosen != nil {
				why = ad.Chosen.Family + " " + ad.Chosen.Why
			}
			t.Logf("%s %s: test acc %.3f (base %.3f) adapt %.1fs %s", mm.Name(), task.Name, acc, base, time.Since(s).Seconds(), why)
		}
	}
}

func fv(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestGeneratorDecodersNano measures both decoders of the generalization
// module on ONE collection (nano, built-in in-domain suites, a pretrained
// base from DEGAML_NANO_BASE): cross-validated/inner-validation MSE and
// accuracy of the generated adapter vs the mean checkpoint, then test
// accuracy on held-out instances of base, mean checkpoint and each decoder.
// A measurement, not a unit test: set DEGAML_NANO=1 (DEGAML_NANO_TASKS sets
// the collected tasks, default 12).
func TestGeneratorDecodersNano(t *testing.T) {
	if os.Getenv("DEGAML_NANO") == "" || os.Getenv("DEGAML_NANO_BASE") == "" {
		t.Skip("set DEGAML_NANO=1 and DEGAML_NANO_BASE=<checkpoint dir> to measure")
	}
	dgInitBackend(t)
	ck, err := models.LoadCheckpoint(os.Getenv("DEGAML_NANO_BASE"))
	if err != nil {
		t.Fatal(err)
	}
	model := &models.Model{Config: ck.Config, Params: ck.Weights, Tokenizer: tokenizer.NewByte()}
	env := &meta.Env{Backend: dgBackend, Model: model,
		LoRA: models.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}},
		Publish: func(e events.Event) {
			if e.Kind == events.Log || e.Kind == events.Warning {
				t.Logf("%s %s", e.Stage, e.Message)
			}
		}}
	nTasks := 12
	if v, err := strconv.Atoi(os.Getenv("DEGAML_NANO_TASKS")); err == nil && v > 0 {
		nTasks = v
	}
	var pool, evalTasks []*tasks.Task
	for _, f := range suites.All() {
		if f.Role() != tasks.InDomain {
			continue
		}
		for i := 1; i <= 24; i++ { // instance 0 is the base's pretraining world
			pool = append(pool, f.Instance(0, i, ""))
		}
		for i := 501; i <= 502; i++ {
			evalTasks = append(evalTasks, f.Instance(0, i, ""))
		}
	}
	o := meta.DeGAMLOptions{CollectTasks: nTasks}.WithDefaults()
	m := &degamlMethod{name: meta.DeGAMLGen, opts: o}
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := r.embedSpecFor(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	set, err := collectCheckpoints(context.Background(), r, pool, o, spec, meta.DeGAMLGen, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("collected %d tasks × %d checkpoints in %.0fs (mean collected-LoRA val acc %.3f)", len(set.Tasks), len(set.Tasks[0].Ckpts),
		time.Since(start).Seconds(), meanOf(set, func(c *CollectedTask) float64 { return c.ValAcc }))
	gens := map[string]*Generator{}
	for _, dec := range []string{meta.GenRidge, meta.GenHC} {
		m.opts.GenDecoder = dec
		s := time.Now()
		art, err := m.trainGen(context.Background(), r, set, spec)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%.1fs): %s", dec, time.Since(s).Seconds(), art.Report.Summary())
		gens[dec] = art.Gen
	}
	var sumBase, sumMean, sumRidge, sumHC float64
	for _, task := range evalTasks {
		prompts := kit.Unlabeled(append(append(append([]tasks.Example(nil), task.Splits.Train...), task.Splits.Val...), task.Splits.Test...))
		emb, err := r.EncodePrompts(context.Background(), promptSubset(prompts, o.PromptPool, 1), spec, o.PromptMaxTokens)
		if err != nil {
			t.Fatal(err)
		}
		acc := func(ad *models.Adapter) float64 {
			a, _, _, err := meta.Evaluate(context.Background(), env, &meta.Adapted{Adapter: ad}, task.Splits.Test)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		gr, err := gens[meta.GenRidge].Generate(env.Backend, emb, kit.NewRNG(1, 0x6e))
		if err != nil {
			t.Fatal(err)
		}
		gh, err := gens[meta.GenHC].Generate(env.Backend, emb, kit.NewRNG(1, 0x6e))
		if err != nil {
			t.Fatal(err)
		}
		b, mn, ar, ah := acc(nil), acc(gens[meta.GenRidge].MeanAdapter()), acc(gr), acc(gh)
		t.Logf("%-16s test acc: base %.3f  mean ckpt %.3f  ridge %.3f  hc %.3f", task.Name, b, mn, ar, ah)
		sumBase, sumMean, sumRidge, sumHC = sumBase+b, sumMean+mn, sumRidge+ar, sumHC+ah
	}
	n := float64(len(evalTasks))
	t.Logf("mean over %d held-out tasks: base %.3f  mean ckpt %.3f  ridge %.3f  hc %.3f", len(evalTasks), sumBase/n, sumMean/n, sumRidge/n, sumHC/n)
}
