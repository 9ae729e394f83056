package pipeline

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/tasks"
)

func writeArtifact(t *testing.T) (tmp, dir string) {
	t.Helper()
	root := t.TempDir()
	tmp, dir = filepath.Join(root, "a.tmp"), filepath.Join(root, "a")
	if err := os.MkdirAll(filepath.Join(tmp, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"adapter_model.safetensors": strings.Repeat("w", 4096), "sub/degaml.gob": "gob"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := commitDir(tmp, dir); err != nil {
		t.Fatal(err)
	}
	return tmp, dir
}

// Issue 13: meta artifacts had only a DONE marker, so flipped bytes loaded
// silently. Every committed file is now checksummed and verified.
func TestArtifactManifestDetectsDamage(t *testing.T) {
	damage := map[string]func(dir string) error{
		"flipped byte": func(dir string) error {
			p := filepath.Join(dir, "adapter_model.safetensors")
			b, _ := os.ReadFile(p)
			b[100] ^= 0x40
			return os.WriteFile(p, b, 0o644)
		},
		"NaN overwrite": func(dir string) error {
			f, err := os.OpenFile(filepath.Join(dir, "adapter_model.safetensors"), os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte{0, 0, 0xc0, 0x7f}, 64) // float32 NaN
			return err
		},
		"truncated": func(dir string) error { return os.Truncate(filepath.Join(dir, "sub", "degaml.gob"), 1) },
		"missing":   func(dir string) error { return os.Remove(filepath.Join(dir, "sub", "degaml.gob")) },
		"added":     func(dir string) error { return os.WriteFile(filepath.Join(dir, "extra"), nil, 0o644) },
		"manifest":  func(dir string) error { return os.WriteFile(filepath.Join(dir, doneMarker), []byte("garbage"), 0o644) },
	}
	for name, f := range damage {
		_, dir := writeArtifact(t)
		if err := verifyDir(dir); err != nil {
			t.Fatalf("%s: fresh artifact fails verification: %v", name, err)
		}
		if err := f(dir); err != nil {
			t.Fatal(err)
		}
		err := verifyDir(dir)
		if err == nil || err == errNotDone {
			t.Errorf("%s: damage not detected (%v)", name, err)
		}
	}
	// No marker: an interrupted build, not damage.
	tmp, _ := writeArtifact(t)
	if err := verifyDir(tmp); err != errNotDone {
		t.Errorf("unfinished dir: %v", err)
	}
	// A marker from before manifests is still trusted.
	_, dir := writeArtifact(t)
	_ = os.WriteFile(filepath.Join(dir, doneMarker), []byte("ok\n"), 0o644)
	if err := verifyDir(dir); err != nil {
		t.Errorf("legacy marker: %v", err)
	}
}

func TestDivergenceVerdicts(t *testing.T) {
	cases := []struct {
		losses []float64
		bad    bool
	}{
		{[]float64{1.4, 1.2, 1.0, 0.8, 0.7, 0.6, 0.6, 0.5}, false},
		{[]float64{1.4, 1.45, 1.38, 1.41}, false},                        // noisy but flat: not judged diverged
		{[]float64{1.4, 5.56, 5.56, 5.56, 5.56, 5.56, 5.56, 5.56}, true}, // the nometa-lora --lr 1e9
		{[]float64{1.4, 1.5, 1.6, 1.6, 1.7, 1.7, 1.7, 1.7}, true},        // never decreased, ends higher
		{[]float64{1.4, math.NaN(), 1.0}, true},
		{[]float64{0.92, 5.2, 7.17, 3.5, 2.1, 1.5, 1.2, 0.9, 0.75, 0.58}, true}, // nometa-lora --lr 1: spikes, then wanders back
		{[]float64{1.4, math.Inf(1)}, true},
	}
	for _, c := range cases {
		if got := divergedLosses(c.losses) != ""; got != c.bad {
			t.Errorf("%v: diverged=%v, want %v", c.losses, got, c.bad)
		}
	}
}

// Restarts at step 1 are separate runs: a good run followed by a good run is
// not one run whose loss jumped back up.
func TestMonitorSegmentsRuns(t *testing.T) {
	m := newDivergenceMonitor()
	for range 2 {
		for i, l := range []float64{2, 1.5, 1, 0.5} {
			m.observe(events.Event{Kind: events.Step, Phase: "ttt", Step: i + 1, SupportLoss: events.F(l), LR: events.F(0.01)})
		}
	}
	if v := m.verdict(); v != "" {
		t.Errorf("two good runs judged diverged: %s", v)
	}
	if m.lr != 0.01 {
		t.Errorf("lr %v", m.lr)
	}
	m.observe(events.Event{Kind: events.Step, Phase: "ttt", Step: 1, SupportLoss: events.F(1)})
	m.observe(events.Event{Kind: events.Step, Phase: "ttt", Step: 2, SupportLoss: events.F(9)})
	if m.verdict() == "" {
		t.Error("exploding third run not caught")
	}
}

func TestNonFiniteResultIsAnError(t *testing.T) {
	if err := finiteResult(0.25, math.NaN()); err == nil || !strings.Contains(err.Error(), "ECE") {
		t.Errorf("NaN ECE: %v", err)
	}
	if err := finiteResult(math.Inf(1), 0.1); err == nil {
		t.Error("Inf accuracy accepted")
	}
	if err := finiteResult(0.25, 0.1); err != nil {
		t.Error(err)
	}
}

// The attack end to end: a cached meta-learned adapter overwritten
// with NaN loaded silently. Now a second Workbench on the same work dir sees
// the damage, says so with a warning, and trains the artifact again.
func TestDamagedMetaArtifactWarnsAndIsRebuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny base and a union LoRA")
	}
	cfg := tinyConfig(t)
	cfg.Methods.Union.Steps = 2
	dir := t.TempDir()
	w, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Artifact(context.Background(), meta.UnionLoRA); err != nil {
		t.Fatal(err)
	}
	w.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "meta", "union-lora-*", "adapter_model.safetensors"))
	if len(files) != 1 {
		t.Fatalf("artifact files %v", files)
	}
	f, err := os.OpenFile(files[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	nan := []byte{0, 0, 0xc0, 0x7f}
	st, _ := f.Stat()
	f.WriteAt(bytes.Repeat(nan, 8), st.Size()-64)
	f.Close()

	var warned bool
	for _, e := range unionArtifactEvents(t, cfg, dir) {
		if e.Kind == events.Warning && strings.Contains(e.Message, "damaged") && strings.Contains(e.Message, "adapter_model.safetensors") {
			warned = true
		}
	}
	if !warned {
		t.Error("no warning about the damaged artifact")
	}
	if err := verifyDir(filepath.Dir(files[0])); err != nil {
		t.Errorf("the rebuilt artifact does not verify: %v", err)
	}

	// An intact artifact loads without a word and without retraining.
	for _, e := range unionArtifactEvents(t, cfg, dir) {
		if e.Kind == events.Warning || e.Kind == events.Step {
			t.Errorf("intact artifact: unexpected %s event %q", e.Kind, e.Message)
		}
	}
}

// unionArtifactEvents opens a workbench on dir, has it load (or train) the
// union LoRA artifact, closes it, and returns every event it published.
func unionArtifactEvents(t *testing.T, cfg *config.Config, dir string) []events.Event {
	t.Helper()
	w, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sub := w.Bus().Subscribe(events.Lossless)
	defer sub.Close()
	if _, err := w.Artifact(context.Background(), meta.UnionLoRA); err != nil {
		t.Fatal(err)
	}
	return sub.Drain()
}

// fakeLoRA adapts by publishing the losses its learning rate gives: lr above
// 0.1 diverges, as a real LoRA at lr 1 does.
type fakeLoRA struct {
	name string
	lr   float64
}

func (f *fakeLoRA) Name() string { return f.name }
func (f *fakeLoRA) MetaTrain(context.Context, *meta.Env, []*tasks.Task) (meta.Artifact, error) {
	return nil, nil
}
func (f *fakeLoRA) LoadArtifact(string) (meta.Artifact, error) { return nil, nil }
func (f *fakeLoRA) Adapt(_ context.Context, env *meta.Env, _ meta.Artifact, _ *tasks.Task, _ int64) (*meta.Adapted, error) {
	for i := range 10 {
		loss := 1.4 - 0.05*float64(i)
		if f.lr > 0.1 {
			loss = 1.4 + 2*float64(i)
		}
		env.Publish(events.Event{Kind: events.Step, Phase: "inner", Step: i + 1, SupportLoss: events.F(loss), LR: events.F(f.lr)})
	}
	return &meta.Adapted{}, nil
}

// `run --method nometa-lora --lr 1e9` reported a normal result. A diverging
// nometa-lora is now retried at a lower LR until it trains, and a method
// whose LR is not a knob gets a flagged result.
func TestDivergedAdaptationBacksOffThenFlags(t *testing.T) {
	var lrs []float64
	var warnings []string
	env := &meta.Env{Publish: func(e events.Event) {
		if e.Kind == events.Warning {
			warnings = append(warnings, e.Message)
		}
	}}
	remake := func(k api.Knobs) (meta.Method, error) {
		lrs = append(lrs, k.LR)
		return &fakeLoRA{name: meta.NoMetaLoRA, lr: k.LR}, nil
	}
	_, flag, err := adaptWatched(context.Background(), &fakeLoRA{name: meta.NoMetaLoRA, lr: 1}, remake, env, nil, nil, 1, api.Knobs{LR: 1})
	if err != nil || flag != "" {
		t.Fatalf("flag %q err %v, want a recovered run", flag, err)
	}
	if len(lrs) != 2 || lrs[0] != 0.25 || lrs[1] != 0.0625 {
		t.Errorf("back-off LRs %v, want [0.25 0.0625]", lrs)
	}
	if len(warnings) != 2 {
		t.Errorf("warnings %q", warnings)
	}

	warnings = nil
	_, flag, err = adaptWatched(context.Background(), &fakeLoRA{name: meta.MAMLEnLLM, lr: 1}, nil, env, nil, nil, 1, api.Knobs{})
	if err != nil || !strings.HasPrefix(flag, "diverged: loss exploded") || len(warnings) != 1 {
		t.Fatalf("maml: flag %q err %v warnings %q", flag, err, warnings)
	}
	// DeGAML's policy explores hypotheses; a bad one is not a diverged result.
	_, flag, _ = adaptWatched(context.Background(), &fakeLoRA{name: meta.DeGAML, lr: 1}, nil, env, nil, nil, 1, api.Knobs{})
	if flag != "" {
		t.Errorf("degaml flagged: %q", flag)
	}
}
