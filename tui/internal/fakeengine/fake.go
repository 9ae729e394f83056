// Package fakeengine is a scripted api.Engine for TUI tests and demos: it
// publishes realistic event sequences (stage progress, inner steps,
// hypotheses, results, streamed tokens) on a real events.Bus. Curves are
// deterministic in (method, seed), so golden files are stable.
package fakeengine

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tasks"
)

// Engine implements api.Engine.
type Engine struct {
	bus *events.Bus
	// Sync publishes every event before the call returns (tests); otherwise
	// a goroutine publishes them with Delay between steps (demos).
	Sync  bool
	Delay time.Duration
	// Steps is the number of inner steps per adaptation run.
	Steps int
	// Epoch is the fixed event time, so nothing depends on the wall clock.
	Epoch time.Time

	started sync.Once
	mu      sync.Mutex
	seq     int
	stages  []api.StageStatus
	Adapts  []api.AdaptRequest // every Adapt call, in order
	Chats   []api.ChatRequest  // every Chat call, in order
	methods map[string]string  // run id → method
	labels  map[string]string  // run id → the adapter label chat answers carry
}

// New returns a synchronous fake with 12 steps per run.
func New() *Engine {
	return &Engine{bus: events.NewBus(), Sync: true, Steps: 12,
		Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		stages: []api.StageStatus{
			{Name: string(api.StageBase), State: "pending"}, {Name: string(api.StageCollect), State: "pending"},
			{Name: string(api.StageGenerator), State: "pending"}, {Name: string(api.StagePolicy), State: "pending"},
		}}
}

// Bus implements api.Engine.
func (f *Engine) Bus() *events.Bus { return f.bus }

func (f *Engine) publish(e events.Event) {
	if e.Time.IsZero() {
		e.Time = f.Epoch
	}
	f.bus.Publish(e)
}

func (f *Engine) run(fn func()) {
	if f.Sync {
		fn()
		return
	}
	go fn()
}

func (f *Engine) pause() {
	if !f.Sync && f.Delay > 0 {
		time.Sleep(f.Delay)
	}
}

// Suites implements api.Engine: the twelve built-in suites plus one file.
func (f *Engine) Suites() []api.SuiteInfo { return Suites() }

// StartPipeline plays base and collect as cached, generator running at 40%
// with a falling loss, policy pending. Like the real engine it starts the
// pipeline once: every SSH seat's TUI calls it on the one shared engine.
func (f *Engine) StartPipeline(ctx context.Context) {
	f.started.Do(func() { f.run(f.playPipeline) })
}

func (f *Engine) playPipeline() {
	for _, s := range []string{"base", "collect"} {
		f.publish(events.Event{Kind: events.StageStarted, Stage: s})
		f.publish(events.Event{Kind: events.StageFinished, Stage: s, Cached: true, Fraction: 1})
	}
	f.publish(events.Event{Kind: events.StageStarted, Stage: "generator"})
	for i := 1; i <= 40; i++ {
		f.publish(events.Event{Kind: events.Step, Stage: "generator", Method: "degaml", Phase: "generator",
			Step: i * 5, Total: 500, QueryLoss: events.F(0.9*math.Exp(-float64(i)/15) + 0.1)})
		f.pause()
	}
	f.publish(events.Event{Kind: events.StageProgress, Stage: "generator", Fraction: 0.4, ETA: 130 * time.Second})
	f.mu.Lock()
	f.stages[0] = api.StageStatus{Name: "base", State: "cached", Fraction: 1, Cached: true}
	f.stages[1] = api.StageStatus{Name: "collect", State: "cached", Fraction: 1, Cached: true}
	f.stages[2] = api.StageStatus{Name: "generator", State: "running", Fraction: 0.4, ETA: 130 * time.Second}
	f.mu.Unlock()
}

// Calls counts the Adapt and Chat calls so far; safe while other
// goroutines call the engine (the SSH tests' shared engine).
func (f *Engine) Calls() (adapts, chats int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.Adapts), len(f.Chats)
}

// Stages implements api.Engine.
func (f *Engine) Stages() []api.StageStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.StageStatus(nil), f.stages...)
}

func (f *Engine) id(kind string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("%s-%d", kind, f.seq)
}

// Adapt implements api.Engine.
func (f *Engine) Adapt(ctx context.Context, r api.AdaptRequest) (string, error) {
	if r.Suite == "" {
		return "", fmt.Errorf("no suite")
	}
	f.mu.Lock()
	f.Adapts = append(f.Adapts, r)
	f.mu.Unlock()
	id := f.id("adapt")
	f.mu.Lock()
	if f.methods == nil {
		f.methods = map[string]string{}
	}
	f.methods[id] = r.Method
	if f.labels == nil {
		f.labels = map[string]string{}
	}
	f.labels[id] = r.Method + " on " + taskName(r)
	f.mu.Unlock()
	f.run(func() { f.playAdapt(id, r) })
	return id, nil
}

// curve returns the (support, query, acc) of a method at step i: gen-only
// has no steps, decoupled converges lowest, baselines in between.
func (f *Engine) curve(method string, seed int64, i int) (float64, float64, float64) {
	floor := map[string]float64{"degaml": 0.35, "maml-en-llm": 0.55, "nometa-lora": 0.5, "union-lora": 0.9, "abmll": 0.7}[method]
	start := map[string]float64{"degaml": 1.1, "maml-en-llm": 1.6, "nometa-lora": 2.2, "union-lora": 1.4, "abmll": 1.8}[method]
	t := float64(i)
	wobble := 0.03 * math.Sin(t*1.7+float64(seed))
	sup := floor*0.8 + (start-floor*0.8)*math.Exp(-t/3) + wobble
	qry := floor + (start-floor)*math.Exp(-t/4) - wobble/2
	acc := 0.25 + (0.8-floor*0.5-0.25)*(1-math.Exp(-t/4))
	return sup, qry, acc
}

func (f *Engine) playAdapt(id string, r api.AdaptRequest) {
	task := taskName(r)
	base := events.Event{Run: id, Method: r.Method, Task: task}
	steps := f.Steps
	if r.Knobs.InnerSteps > 0 {
		steps = r.Knobs.InnerSteps
	}
	f.publish(events.Event{Kind: events.AdaptStarted, Run: id, Method: r.Method, Task: task, Adapt: applied(r, task, steps)})
	var chosen *events.HypothesisInfo
	play := func(phase string, n int) {
		for i := 1; i <= n; i++ {
			s, q, a := f.curve(r.Method, r.Seed, i)
			e := base
			e.Kind, e.Phase, e.Step, e.Total = events.Step, phase, i, n
			e.SupportLoss, e.QueryLoss, e.Accuracy, e.LR, e.MS = events.F(s), events.F(q), events.F(a), events.F(1e-5), 40+float64(i%3)
			f.publish(e)
			f.pause()
		}
	}
	switch api.Method(r.Method) {
	case api.MethodDeGAML:
		// As the real engine: each of the policy's top hypotheses is
		// announced, run as a validation trial (its own steps, numbered from
		// 1) and announced again with its reward; the chosen one last.
		bl := 0.52
		hyps := []events.HypothesisInfo{
			{Family: "ttt", Params: map[string]float64{"lr": 1e-5, "steps": float64(steps), "batch": 4}, Accuracy: events.F(0.61)},
			{Family: "slot", Params: map[string]float64{"lr": 0.01, "steps": 3}, Accuracy: events.F(0.50)},
			{Family: "mix", Params: map[string]float64{"lambda": 0.3}, Accuracy: events.F(0.52)},
		}
		for i := range hyps {
			h := hyps[i]
			announce := h
			announce.Accuracy = nil
			e := base
			e.Kind, e.Phase, e.Hyp = events.Hypothesis, h.Family, &announce
			f.publish(e)
			switch h.Family {
			case "ttt":
				play("ttt", steps)
			case "slot":
				play("slot", 3)
			}
			h.Baseline = events.F(bl)
			rw := 0.0
			if *h.Accuracy >= bl {
				rw = 1
			}
			h.Reward = events.F(rw)
			hyps[i] = h
			e.Hyp = &h
			f.publish(e)
		}
		c := hyps[0]
		c.Chosen, c.Why = true,
			"policy rank 1/36, p=0.052 (generated-adapter confidence 0.32, entropy 0.97); best of the policy's top 3 on validation"
		chosen = &c
		e := base
		e.Kind, e.Phase, e.Hyp = events.Hypothesis, c.Family, &c
		f.publish(e)
	case api.MethodDeGAMLGen, api.MethodBase:
	default:
		play("inner", steps)
	}
	acc := map[string]float64{"base": 0.31, "degaml-gen": 0.52, "degaml": 0.61, "maml-en-llm": 0.55, "nometa-lora": 0.47, "union-lora": 0.43, "abmll": 0.45}[r.Method]
	e := base
	e.Kind = events.Result
	e.Result = &events.ResultInfo{Method: r.Method, Suite: r.Suite, Task: task, Seed: r.Seed, Accuracy: acc, N: 100, WallS: 3.2, Chosen: chosen}
	f.publish(e)
}

// applied is the budget the fake runs r with, as the engine reports it: a
// config of rank 4, support 16, lr 1e-2, with r's knobs on top; only
// methods that take gradient steps on the task have steps and lr, and only
// nometa-lora changes rank (the engine's rules).
func applied(r api.AdaptRequest, task string, steps int) *events.AdaptInfo {
	a := &events.AdaptInfo{Suite: r.Suite, Task: task, Method: r.Method, Seed: r.Seed, Rank: 4, Support: 16}
	if r.Knobs.Support > 0 {
		a.Support = r.Knobs.Support
	}
	switch api.Method(r.Method) {
	case api.MethodNoMetaLoRA:
		a.InnerSteps, a.LR = steps, 1e-2
		if r.Knobs.LR > 0 {
			a.LR = r.Knobs.LR
		}
		if r.Knobs.Rank > 0 {
			a.Rank = r.Knobs.Rank
		}
	case api.MethodMAMLEnLLM:
		a.InnerSteps, a.LR = steps, 3e-3
	case api.MethodABMLL:
		a.InnerSteps, a.LR = steps, 0.1
	case api.MethodBase:
		a.Rank = 0
	}
	return a
}

// taskName names the task instance a request adapts to, as the engine does.
func taskName(r api.AdaptRequest) string { return fmt.Sprintf("%s#%d", r.Suite, 500+r.Seed) }

// Answer is what every chat answers, token by token, up to its stop.
const Answer = "The answer is [B]"

// RunOnTokens are the tokens a chat generates without a stop string.
var RunOnTokens = []string{"The", " answer", " is", " [", "B", "]", "]]", "]]n", "\n", "Answer", ": [", "B", "]]"}

// Chat implements api.Engine.
func (f *Engine) Chat(ctx context.Context, r api.ChatRequest) (string, error) {
	if strings.TrimSpace(r.Prompt) == "" {
		return "", fmt.Errorf("empty prompt")
	}
	f.mu.Lock()
	f.Chats = append(f.Chats, r)
	f.mu.Unlock()
	id := f.id("chat")
	// The engine labels answers with the adapter that answered.
	label := "base model"
	if r.AdaptRun != "" {
		f.mu.Lock()
		label = f.labels[r.AdaptRun]
		f.mu.Unlock()
	}
	f.run(func() {
		// A small model runs on after its answer ("[B]]]]n…"); the
		// request's stop strings end it, as the engine's generator does.
		text := ""
		for _, tok := range RunOnTokens {
			f.publish(events.Event{Kind: events.Token, Run: id, Text: tok, Message: label, TokensPerS: 42})
			f.pause()
			text += tok
			if slices.ContainsFunc(r.Stop, func(s string) bool { return s != "" && strings.Contains(text, s) }) {
				break
			}
		}
		f.publish(events.Event{Kind: events.Log, Run: id, Phase: "chat_done", Message: label})
	})
	return id, nil
}

// OptionProbs implements api.Engine: decoupled is more confident in B.
func (f *Engine) OptionProbs(ctx context.Context, r api.ChatRequest) ([]float64, error) {
	ex, ok := tasks.ParseChoice(r.Prompt) // the engine's rule
	if !ok {
		return nil, fmt.Errorf("not multiple choice")
	}
	n := len(ex.Options)
	p := make([]float64, n)
	f.mu.Lock()
	method := f.methods[r.AdaptRun]
	f.mu.Unlock()
	top := map[string]float64{"": 0.3, "degaml-gen": 0.55, "degaml": 0.8}[method]
	if top == 0 {
		top = 0.5
	}
	for i := range p {
		p[i] = (1 - top) / float64(n-1)
	}
	p[1] = top
	return p, nil
}

// LatestBench implements api.Engine with the paper's 0.5B in-domain numbers
// (as fractions) on the first six suites.
func (f *Engine) LatestBench() (*api.BenchTable, error) {
	cols := []string{"arc-c", "arc-e", "hellaswag", "boolq", "piqa", "winogrande", "gsm-mc", "math-mc", "logic", "social", "code", "medical"}
	rows := map[string][]float64{
		"nometa-lora": {40.7, 59.4, 23.4, 22.1, 66.2, 35.7},
		"union-lora":  {39.7, 47.4, 26.3, 14.7, 51.1, 50.5, 15.6, 6.8, 20.3, 39.5, 29.8, 29.9},
		"abmll":       {37.6, 54.4, 26.5, 62.2, 37.6, 34.5, 20.4, 7.1, 23.7, 53.1, 28.2, 16.8},
		"maml-en-llm": {47.7, 63.7, 36.3, 46.2, 67.7, 50.1, 29.1, 26.3, 25.1, 54.9, 34.1, 26.4},
		"degaml":      {55.5, 74.7, 48.3, 58.7, 60.1, 52.8, 30.3, 24.5, 28.7, 55.1, 35.6, 31.2},
	}
	t := &api.BenchTable{Title: "fake bench (paper, Qwen2.5-0.5B)", Columns: cols}
	for _, m := range []string{"nometa-lora", "union-lora", "abmll", "maml-en-llm", "degaml"} {
		row := api.BenchRow{Method: m, Cells: make([]api.BenchCell, len(cols))}
		for j, v := range rows[m] {
			row.Cells[j] = api.BenchCell{Mean: v / 100, CI95: 0.021, N: 200}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

var _ api.Engine = (*Engine)(nil)

// World implements api.Worlds: the instance a seed selects, named as the
// engine names it, with hidden parameters that differ per seed.
func (f *Engine) World(suite string, seed int64) (api.World, error) {
	for _, s := range Suites() {
		if s.Name != suite {
			continue
		}
		w := api.World{Suite: suite, Seed: seed, Example: s.Example, Task: taskName(api.AdaptRequest{Suite: suite, Seed: seed})}
		w.Options = strings.Count(s.Example, "\n")
		if s.Hidden != nil {
			w.Hidden = maps.Clone(s.Hidden)
			w.Hidden["instance"] = fmt.Sprint(500 + seed)
			w.Show = "workbench tasks show " + w.Task
		}
		return w, nil
	}
	return api.World{}, fmt.Errorf("unknown suite %q", suite)
}
