package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// defaultConfig is the embedded default (the repository's workbench.toml)
// with overlay, the body of a user config file, on top ("" for none).
func defaultConfig(t *testing.T, overlay string) *config.Config {
	t.Helper()
	d, err := os.ReadFile("../../workbench.toml")
	if err != nil {
		t.Fatal(err)
	}
	var p string
	if overlay != "" {
		p = filepath.Join(t.TempDir(), "overlay.toml")
		if err := os.WriteFile(p, []byte(overlay), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(d, p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// tinyConfig is the embedded default with budgets small enough for a test.
func tinyConfig(t *testing.T) *config.Config {
	t.Helper()
	return defaultConfig(t, "[pipeline]\npretrain_steps = 6\npretrain_batch = 4\ntrain_instances = 1\n")
}

func TestEvalInstancesAreHeldOut(t *testing.T) {
	for _, f := range suites.All() {
		train := TrainTasks([]tasksFamily{f}, 0, 3, 0)
		for seed := int64(-3); seed < 5; seed++ {
			ev := EvalTask(f, seed)
			for _, tr := range train {
				if tr.Name == ev.Name {
					t.Fatalf("%s: eval instance %s is a training instance", f.Name(), ev.Name)
				}
			}
			var idx int
			if _, err := fmtSscanf(ev.Name[strings.LastIndex(ev.Name, "#")+1:], &idx); err != nil || idx < EvalFirstInstance {
				t.Fatalf("%s: eval instance %q below %d", f.Name(), ev.Name, EvalFirstInstance)
			}
		}
	}
}

func TestBaseIsCachedAndResumable(t *testing.T) {
	cfg := tinyConfig(t)
	dir := t.TempDir()
	defer func(n int) { pretrainSaveEvery = n }(pretrainSaveEvery)
	pretrainSaveEvery = 2
	w, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Interrupt pretraining after its first steps: nothing half-written may be taken as done.
	ctx, cancel := context.WithCancel(context.Background())
	sub := w.Bus().Subscribe(events.Lossless)
	go func(sub *events.Subscription) {
		for {
			evs, ok := sub.Wait()
			for _, e := range evs {
				if e.Kind == events.Step && e.Step >= 3 {
					cancel()
				}
			}
			if !ok {
				return
			}
		}
	}(sub)
	if _, err := w.Base(ctx); err == nil {
		t.Fatal("canceled pretraining reported success")
	}
	sub.Close()
	baseDir, _, _, _ := w.baseDir()
	if _, err := os.Stat(baseDir); err == nil {
		t.Fatal("an interrupted pretraining left a finished-looking base model")
	}
	sub = w.Bus().Subscribe(events.Lossless)
	m1, err := w.Base(context.Background()) // a failed attempt is retried, from the partial checkpoint
	if err != nil {
		t.Fatal(err)
	}
	resumedAt := -1
	for _, e := range sub.Drain() {
		if e.Kind == events.Log && strings.HasPrefix(e.Message, "resuming pretraining at step ") {
			fmtSscanf(strings.TrimPrefix(e.Message, "resuming pretraining at step "), &resumedAt)
		}
		if e.Kind == events.Step && e.Step <= resumedAt {
			t.Fatalf("resumed at %d but repeated step %d", resumedAt, e.Step)
		}
	}
	// The cancel lands asynchronously, after step 3 at the earliest; a
	// canceled pretraining saves where it stopped (quitting loses nothing),
	// besides the periodic saves every 2 steps.
	if resumedAt < 3 {
		t.Fatalf("pretraining did not resume where it was canceled (resumed at %d, canceled after step 3)", resumedAt)
	}
	w.Close()

	w2, err := Open(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	m2, err := w2.Base(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st := w2.Stages()[0]; st.Name != StageBase || st.State != "cached" {
		t.Fatalf("second open: base stage %+v, want cached", st)
	}
	a, b := m1.Params.Float32s("model.embed_tokens.weight"), m2.Params.Float32s("model.embed_tokens.weight")
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("cached base model differs from the trained one")
		}
	}
}

func TestAdaptPublishesStepsAndResultUnderItsRunID(t *testing.T) {
	cfg := tinyConfig(t)
	w, err := Open(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sub := w.Bus().Subscribe(events.Lossless)
	id, err := w.Adapt(context.Background(), api.AdaptRequest{Suite: "math-mc", Method: meta.NoMetaLoRA, Seed: 3, Knobs: api.Knobs{InnerSteps: 3}})
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	var started *events.AdaptInfo
	// Bounded: Wait blocks until an event comes, so a silent hang would
	// never reach a deadline check; closing the subscription ends Wait.
	timeout := time.AfterFunc(3*time.Minute, sub.Close)
	defer timeout.Stop()
	for {
		evs, ok := sub.Wait()
		if !ok {
			t.Fatal("no result within 3 minutes")
		}
		for _, e := range evs {
			if e.Run != id {
				continue
			}
			switch e.Kind {
			case events.AdaptStarted:
				// The budget in effect: the knob's 3 steps, the rest from
				// the config ([methods.nometa-lora] lr, [lora] rank, [adapt]
				// support, capped by the train split).
				support := min(cfg.Adapt.Support, len(EvalTask(mustFamily(t, "math-mc"), 3).Splits.Train))
				want := events.AdaptInfo{Suite: "math-mc", Task: e.Task, Method: meta.NoMetaLoRA, Seed: 3,
					InnerSteps: 3, LR: cfg.Methods.NoMeta.LR, Rank: cfg.LoRA.Rank, Support: support}
				if e.Adapt == nil || *e.Adapt != want || cfg.Methods.NoMeta.LR <= 0 || !strings.HasPrefix(e.Task, "math-mc#") {
					t.Fatalf("adapt started %+v, want %+v", e.Adapt, want)
				}
				started = e.Adapt
			case events.Step:
				if started == nil {
					t.Fatal("a step before the AdaptStarted event")
				}
				steps++
				if e.Method != meta.NoMetaLoRA || !strings.HasPrefix(e.Task, "math-mc#") {
					t.Fatalf("step event lacks method/task: %+v", e)
				}
			case events.Error:
				t.Fatal(e.Message)
			case events.Result:
				r := e.Result
				if r.N != len(EvalTask(mustFamily(t, "math-mc"), 3).Splits.Test) || r.Accuracy < 0 || r.Accuracy > 1 {
					t.Fatalf("result %+v", r)
				}
				if steps != 3 {
					t.Fatalf("%d inner-step events, want 3", steps)
				}
				return
			}
		}
	}
}

func TestChatPromptFormatsMultipleChoice(t *testing.T) {
	p := "What is 2#3?\nA: 5\nB: 7\nC: 9"
	byteTok := tokenizer.NewByte()
	if got, _ := chatPrompt(p+"\n", byteTok); got != p+"\nAnswer: [" {
		t.Fatalf("chat prompt %q", got)
	}
	// The inline form on a byte model is a word-answer question.
	if got, _ := chatPrompt("Which is a metal? options iron wax answer", byteTok); got != "Which is a metal? options iron wax answer" {
		t.Fatalf("inline chat prompt on a byte model %q", got)
	}
	if got, _ := chatPrompt("Which is a metal? options iron wax", byteTok); got != "Which is a metal? options iron wax answer" {
		t.Fatalf("inline chat prompt without its cue on a byte model %q", got)
	}
	if got, _ := chatPrompt("hello", byteTok); got != "hello" {
		t.Fatalf("free text changed: %q", got)
	}
	// A word model: the question gets the task tag and the answer cue, in either option style.
	wt, err := tokenizer.NewWord(suites.Vocabulary(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"which material is magnetic ? options iron wax", "which material is magnetic ?\nA: iron\nB: wax"} {
		if got, err := chatPrompt(q, wt); err != nil || got != "wx : which material is magnetic ? options iron wax answer" {
			t.Fatalf("word chat prompt %q → %q, %v", q, got, err)
		}
	}
	if got, err := chatPrompt("which material is magnetic ?", wt); err != nil || got != "wx : which material is magnetic ?" {
		t.Fatalf("word chat prompt without options → %q, %v", got, err)
	}
	if got, err := chatPrompt("p3 : passage : the tin lie on the bench", wt); err != nil || got != "p3 : passage : the tin lie on the bench" {
		t.Fatalf("a tagged prompt was re-tagged: %q, %v", got, err)
	}
	if got, _ := chatPrompt("passage : the tin", wt); got != "wx : passage : the tin" {
		t.Fatalf("untagged prompt starting with p: %q", got)
	}
	_, err = chatPrompt("is gold magnetic ?", wt)
	if err == nil || !strings.Contains(err.Error(), "not among them: gold.") || !strings.Contains(err.Error(), "magnetic") {
		t.Fatalf("out-of-vocabulary chat: %v, want the unknown word named and the known words listed", err)
	}
	for _, free := range []string{"A: only one", "Q?\nA: only one", "Q? options one"} {
		if got, _ := chatPrompt(free, byteTok); got != free {
			t.Fatalf("%q is not multiple choice, got the cue: %q", free, got)
		}
	}
}

// A chat prompt that fits the context is never cut to make room for the
// answer (the word model has 64 positions; the TUI asks for 128 new tokens).
func TestChatMaxNewKeepsPromptWhole(t *testing.T) {
	for _, c := range []struct{ ctx, n, maxNew, want int }{
		{64, 17, 128, 47},  // the TUI on nano-word: the answer gets the rest
		{64, 17, 8, 8},     // room enough: unchanged
		{64, 64, 128, 128}, // no room: TruncateLeft cuts as before
		{64, 80, 16, 16},
		{256, 40, 128, 128},
	} {
		if got := chatMaxNew(c.ctx, c.n, c.maxNew); got != c.want {
			t.Errorf("chatMaxNew(%d, %d, %d) = %d, want %d", c.ctx, c.n, c.maxNew, got, c.want)
		}
	}
}

func TestChatRejectsOversizedPrompt(t *testing.T) {
	w, err := Open(tinyConfig(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Chat(context.Background(), api.ChatRequest{Prompt: strings.Repeat("x", MaxChatBytes+1)}); err == nil {
		t.Fatal("oversized prompt accepted")
	}
	if _, err := w.Adapt(context.Background(), api.AdaptRequest{Suite: "nosuch", Method: meta.Base}); err == nil {
		t.Fatal("unknown suite accepted")
	}
	if _, err := w.Adapt(context.Background(), api.AdaptRequest{Suite: "boolq", Method: "nosuch"}); err == nil {
		t.Fatal("unknown method accepted")
	}
}

// The generator's step events name their stage in Stage (their Phase is
// "generator-eval"): they must start the generator stage and end collect, so
// the Pipeline screen shows the generator's own time.
func TestGeneratorStepsStartTheGeneratorStage(t *testing.T) {
	w, err := Open(tinyConfig(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pub := w.stagePublisher(meta.DeGAML, w.stagesOf(meta.DeGAML))
	pub(events.Event{Kind: events.Step, Phase: StageCollect, Step: 1, Total: 2})
	if got := w.stageState(StageCollect); got != "running" {
		t.Fatalf("collect is %q after its first step, want running", got)
	}
	pub(events.Event{Kind: events.Step, Stage: StageGenerator, Phase: "generator-eval", Step: 1, Total: 4})
	if got := w.stageState(StageGenerator); got != "running" {
		t.Fatalf("generator is %q after its first step, want running", got)
	}
	if got := w.stageState(StageCollect); got == "running" {
		t.Fatalf("collect still running after the generator started")
	}
}

// OptionProbs scores exactly the prompts tasks.ParseChoice reads (the rule
// the chat pane draws bars by), in both forms, and refuses the rest.
func TestOptionProbsFollowsParseChoice(t *testing.T) {
	w, err := Open(tinyConfig(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, p := range []string{
		"which material is magnetic ? options iron wax",
		"which material is magnetic ? options iron wax answer",
		"which material is magnetic ?\nA: iron\nB: wax",
	} {
		if _, ok := tasks.ParseChoice(p); !ok {
			t.Fatalf("%q: the premise (a multiple-choice prompt) is gone", p)
		}
		probs, err := w.OptionProbs(ctx, api.ChatRequest{Prompt: p})
		if err != nil || len(probs) != 2 || math.Abs(probs[0]+probs[1]-1) > 1e-4 {
			t.Errorf("%q: %v, %v; want two probabilities summing to 1", p, probs, err)
		}
	}
	for _, p := range []string{"which material is magnetic ?", "which material is magnetic ?\n  A: iron\n  B: wax", "iron ? options wax"} {
		if _, ok := tasks.ParseChoice(p); ok {
			t.Fatalf("%q: the premise (not multiple choice) is gone", p)
		}
		if probs, err := w.OptionProbs(ctx, api.ChatRequest{Prompt: p}); err == nil {
			t.Errorf("%q scored: %v", p, probs)
		}
	}
}
