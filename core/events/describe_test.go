package events

import "testing"

func TestDescribe(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		e         Event
		line      string
		permanent bool
	}{
		{Event{Kind: StageStarted, Stage: "base"}, "▶ stage base", true},
		{Event{Kind: StageFinished, Stage: "base", Cached: true}, "✓ stage base (cached)", true},
		{Event{Kind: StageFinished, Stage: "meta", Message: "NaN loss"}, "✗ stage meta failed: NaN loss", true},
		{Event{Kind: StageFinished, Stage: "generator", Message: StageInterrupted}, "■ stage generator interrupted", true},
		{Event{Kind: Step, Stage: "adapt", Method: "degaml", Phase: "inner", Step: 3, Total: 8, SupportLoss: f(1.23456), Accuracy: f(0.5), MS: 41.6},
			"  adapt degaml inner step 3/8  loss 1.2346  acc 50.0%  42 ms", false},
		{Event{Kind: Step, Stage: "base", Step: 1, Total: 2, QueryLoss: f(2)}, "  base step 1/2  loss —  query 2.0000  0 ms", false},
		{Event{Kind: Step, Stage: "base", Method: "pretrain", Phase: "pretrain", Step: 39, Total: 800, SupportLoss: f(1.0854), MS: 779},
			"  base pretrain step 39/800  loss 1.0854  779 ms", false},
		{Event{Kind: Hypothesis, Hyp: &HypothesisInfo{Family: "lora", Chosen: false}}, "", false},
		{Event{Kind: Hypothesis, Hyp: &HypothesisInfo{Family: "sft", Params: map[string]float64{"steps": 10, "lr": 1e-5, "batch": 8}, Chosen: true, Why: "best"}},
			"  chosen hypothesis: sft batch=8 lr=1e-05 steps=10 best", true},
		{Event{Kind: Result, Result: &ResultInfo{Method: "base", Task: "logic", Accuracy: 0.25, N: 40, WallS: 1.25, ECE: f(0.1), Flag: "nan"}},
			"result: base on logic: accuracy 25.0% (n=40, 1.2s), ECE 0.100 [FLAGGED nan]", true},
		{Event{Kind: Warning, Message: "slow"}, "warning: slow", true},
		{Event{Kind: Error, Message: "boom"}, "error: boom", true},
		{Event{Kind: Token}, "", false},
	} {
		line, perm := Describe(c.e)
		if line != c.line || perm != c.permanent {
			t.Errorf("%v: got %q %v, want %q %v", c.e.Kind, line, perm, c.line, c.permanent)
		}
	}
}
