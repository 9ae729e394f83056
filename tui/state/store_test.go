package state

import (
	"strings"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
)

func TestStages(t *testing.T) {
	s := NewStore()
	s.Apply([]events.Event{
		{Kind: events.StageStarted, Stage: "base"},
		{Kind: events.StageFinished, Stage: "base", Cached: true, Fraction: 1},
		{Kind: events.StageStarted, Stage: "collect"},
		{Kind: events.StageProgress, Stage: "collect", Fraction: 0.5},
		{Kind: events.Step, Stage: "collect", Step: 3, QueryLoss: events.F(1.5)},
		{Kind: events.StageFinished, Stage: "collect", Fraction: 1, Message: "out of memory"},
	})
	if s.Stages[0].State != "cached" || s.Stages[1].State != "failed" || s.Stages[1].Err != "out of memory" {
		t.Fatalf("%+v", s.Stages)
	}
	if len(s.StageLoss["collect"]) != 1 {
		t.Fatal("stage loss not recorded")
	}
	if _, ok := s.PipelineRunning(); ok {
		t.Fatal("nothing runs")
	}
}

func TestRunsAndChosenHypothesis(t *testing.T) {
	s := NewStore()
	h := events.HypothesisInfo{Family: "ttt", Params: map[string]float64{"lr": 1e-5}}
	chosen := h
	chosen.Chosen = true
	// Events can beat AddRun (the engine publishes before Adapt returns).
	s.Apply([]events.Event{
		{Kind: events.Hypothesis, Run: "a1", Method: "degaml", Hyp: &h},
		{Kind: events.Hypothesis, Run: "a1", Method: "degaml", Hyp: &chosen},
		{Kind: events.Step, Run: "a1", Step: 1, SupportLoss: events.F(1)},
	})
	s.AddRun("a1", api.AdaptRequest{Suite: "logic", Method: "degaml", Seed: 4})
	r := s.RunsFor("logic", 4, api.Knobs{})["degaml"]
	if r == nil || len(r.Hyps) != 1 || r.Chosen == nil || len(r.Steps) != 1 {
		t.Fatalf("%+v", r)
	}
	s.Apply([]events.Event{{Kind: events.Error, Run: "a1", Message: "nan"}})
	if !r.Done || r.Err != "nan" || !s.NoticeBad {
		t.Fatal("error not recorded")
	}
	s.AddRun("a2", api.AdaptRequest{Suite: "logic", Method: "degaml", Seed: 4})
	if s.RunsFor("logic", 4, api.Knobs{})["degaml"].ID != "a2" {
		t.Fatal("newest run should win")
	}
}

func TestStreams(t *testing.T) {
	s := NewStore()
	s.AddStream("c1")
	s.Apply([]events.Event{
		{Kind: events.Token, Run: "c1", Text: "Hi", Message: "adapter x"},
		{Kind: events.Token, Run: "c1", Text: "!"},
		{Kind: events.Log, Run: "c1", Phase: "chat_done"},
	})
	st := s.Streams["c1"]
	if st.Text != "Hi!" || !st.Done || st.Label != "adapter x" || len(s.Runs) != 0 {
		t.Fatalf("%+v", st)
	}
}

// The engine can publish a whole short answer before Chat returns its id:
// the stream registered afterwards still has the text and is done.
func TestStreamEventsBeforeAddStream(t *testing.T) {
	s := NewStore()
	s.Apply([]events.Event{
		{Kind: events.Token, Run: "c1", Text: " tin", Message: "degaml-gen on arc-easy#501"},
		{Kind: events.Token, Run: "c1", Text: ""}, // EOS
		{Kind: events.Log, Run: "c1", Phase: "chat_done"},
	})
	st := s.AddStream("c1")
	if st.Text != " tin" || !st.Done || st.Label != "degaml-gen on arc-easy#501" || len(s.Runs) != 0 {
		t.Fatalf("%+v, %d runs", st, len(s.Runs))
	}
	// Other events of unknown runs still make runs, not streams.
	s.Apply([]events.Event{{Kind: events.Log, Run: "a1", Phase: "trial"}, {Kind: events.Error, Run: "a2", Message: "x"}})
	if _, ok := s.Streams["a1"]; ok {
		t.Fatal("a non-chat log made a stream")
	}
	if _, ok := s.Streams["a2"]; ok || s.Runs["a2"] == nil {
		t.Fatal("an adapt error should go to its run")
	}
}

func TestStageLossThinning(t *testing.T) {
	s := NewStore()
	var evs []events.Event
	for i := range 5000 {
		evs = append(evs, events.Event{Kind: events.Step, Stage: "base", Step: i, QueryLoss: events.F(1)})
	}
	s.Apply(evs)
	pts := s.StageLoss["base"]
	if len(pts) > maxStageLoss+1 || pts[len(pts)-1].X != 4999 || pts[0].X != 0 {
		t.Fatalf("%d points, last %v", len(pts), pts[len(pts)-1])
	}
}

// A stale snapshot must not undo progress already seen in events.
func TestSetStagesKeepsNewerEventState(t *testing.T) {
	s := NewStore()
	s.Apply([]events.Event{{Kind: events.StageStarted, Stage: "base"}, {Kind: events.StageProgress, Stage: "base", Fraction: 0.3}})
	s.SetStages([]api.StageStatus{{Name: "base", State: "pending"}, {Name: "policy", State: "pending"}})
	if s.Stages[0].State != "running" || s.Stages[0].Fraction != 0.3 || len(s.Stages) != 2 {
		t.Fatalf("%+v", s.Stages)
	}
	s.SetStages([]api.StageStatus{{Name: "base", State: "done", Fraction: 1}, {Name: "policy", State: "pending"}})
	if s.Stages[0].State != "done" {
		t.Fatalf("%+v", s.Stages)
	}
}

// events.Canceled is a run's (or a chat stream's) terminal event: it ends
// the run as cancelled, which is neither an error nor a result.
func TestCanceledEndsRunsAndStreams(t *testing.T) {
	s := NewStore()
	s.AddRun("a", api.AdaptRequest{Suite: "math-mc", Method: "degaml", Seed: 1})
	s.AddStream("c")
	s.Apply([]events.Event{
		{Kind: events.Step, Run: "a", Step: 1, SupportLoss: events.F(1)},
		{Kind: events.Canceled, Run: "a", Message: "interrupted"},
		{Kind: events.Token, Run: "c", Text: "The"},
		{Kind: events.Canceled, Run: "c"},
	})
	r := s.Runs["a"]
	if !r.Done || !r.Canceled || r.Err != "" || r.Result != nil {
		t.Fatalf("run after cancel: %+v", r)
	}
	if s.NoticeBad || !strings.Contains(s.Notice, "cancelled") {
		t.Errorf("notice %q (bad %v)", s.Notice, s.NoticeBad)
	}
	if st := s.Streams["c"]; !st.Done || !st.Canceled || st.Err != "" || st.Text != "The" {
		t.Fatalf("stream after cancel: %+v", st)
	}
}

// AdaptStarted records the budget the engine really runs with.
func TestAdaptStartedRecordsTheBudget(t *testing.T) {
	s := NewStore()
	s.AddRun("a", api.AdaptRequest{Suite: "math-mc", Method: "nometa-lora", Seed: 1})
	in := events.AdaptInfo{Suite: "math-mc", Task: "math-mc#501", Method: "nometa-lora", Seed: 1, InnerSteps: 10, LR: 1e-2, Rank: 4, Support: 16}
	s.Apply([]events.Event{{Kind: events.AdaptStarted, Run: "a", Method: "nometa-lora", Task: "math-mc#501", Adapt: &in}})
	r := s.Runs["a"]
	if r.Applied == nil || *r.Applied != in || r.Task != "math-mc#501" {
		t.Fatalf("run %+v", r)
	}
	in.Rank = 99
	if r.Applied.Rank != 4 {
		t.Fatal("the store aliases the event's payload")
	}
}
