package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestNewPlanDefaults(t *testing.T) {
	quick := Preset{Name: "quick", Seeds: 2}
	plan, layout, err := NewPlan(Request{}, []string{"base", "degaml"}, 3, quick)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"arc-easy", "arc-challenge", "hellaswag", "boolq", "piqa", "winogrande",
		"gsm-mc", "math-mc", "logic", "social", "code", "medical"}
	if !slices.Equal(plan.Suites, want) || len(layout.InDomain) != 6 || len(plan.Seeds) != 2 { // quick caps 3 → 2
		t.Errorf("plan %+v", plan)
	}
	// Suites given out of order land in their paper block; paper asks ≥ 5 seeds.
	plan, _, err = NewPlan(Request{Suites: "code,boolq, gsm-mc"}, []string{"base"}, 3, Preset{Name: "paper", Seeds: 5})
	if err != nil || !slices.Equal(plan.Suites, []string{"boolq", "code", "gsm-mc"}) || len(plan.Seeds) != 5 {
		t.Errorf("plan %+v err %v", plan, err)
	}
	plan, _, _ = NewPlan(Request{Seeds: 1, Methods: "degaml,base,degaml"}, nil, 3, quick)
	if len(plan.Seeds) != 1 || !slices.Equal(plan.Methods, []string{"degaml", "base"}) {
		t.Errorf("the request must win over the config, repeats dropped: %+v", plan)
	}
	if _, _, err := NewPlan(Request{Methods: "maml"}, nil, 3, quick); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("unknown method: %v", err)
	}
	if _, _, err := NewPlan(Request{}, nil, 3, quick); err == nil || !strings.Contains(err.Error(), "no methods") {
		t.Errorf("no methods: %v", err)
	}
	if _, _, err := NewPlan(Request{Suites: "gsm8k"}, []string{"base"}, 3, quick); err == nil {
		t.Error("unknown suite accepted")
	}
	for _, n := range []int{-3, MaxSeeds + 1, 100_000_000} {
		if _, _, err := NewPlan(Request{Seeds: n}, []string{"base"}, 3, quick); err == nil || !strings.Contains(err.Error(), "--seeds") {
			t.Errorf("--seeds %d: want an error naming the flag, got %v", n, err)
		}
	}
	if plan, _, err := NewPlan(Request{Seeds: MaxSeeds}, []string{"base"}, 3, quick); err != nil || len(plan.Seeds) != MaxSeeds {
		t.Errorf("--seeds %d (the most allowed): %d seeds, %v", MaxSeeds, len(plan.Seeds), err)
	}
}

func TestChanceLevels(t *testing.T) {
	c := Chance(Plan{Suites: []string{"boolq", "arc-easy"}, Seeds: Seeds(2)})
	if c["boolq"] != 0.5 || c["arc-easy"] <= 0 || c["arc-easy"] > 0.34 {
		t.Errorf("chance %v: boolq is True/False, ARC has ≥ 3 options", c)
	}
}

func TestPlanRecords(t *testing.T) {
	plan := Plan{Methods: []string{"base"}, Suites: []string{"boolq"}, Seeds: Seeds(2)}
	recs := []Record{
		{Method: "base", Suite: "boolq", Seed: 1},
		{Method: "base", Suite: "boolq", Seed: 3},   // a seed from an earlier, larger run
		{Method: "degaml", Suite: "boolq", Seed: 1}, // a method not asked for
		{Method: "base", Suite: "code", Seed: 2},    // a suite not asked for
		{Method: "base", Suite: "boolq", Seed: 2},
	}
	got := plan.Records(recs)
	if len(got) != 2 || got[0].Seed != 1 || got[1].Seed != 2 {
		t.Errorf("kept %+v", got)
	}
}
