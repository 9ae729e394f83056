package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/bench"
	"github.com/degaml/workbench/core/pipeline"
)

func TestBenchPlanDefaults(t *testing.T) {
	quick := bench.Preset{Name: "quick", Seeds: 2}
	plan, layout, err := benchPlan(benchFlags{}, []string{"base", "degaml"}, 3, quick)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"arc-easy", "arc-challenge", "hellaswag", "boolq", "piqa", "winogrande",
		"gsm-mc", "math-mc", "logic", "social", "code", "medical"}
	if !slices.Equal(plan.Suites, want) || len(layout.InDomain) != 6 || len(plan.Seeds) != 2 { // quick caps 3 → 2
		t.Errorf("plan %+v", plan)
	}
	// Suites given out of order land in their paper block; paper asks ≥ 5 seeds.
	plan, _, err = benchPlan(benchFlags{suites: "code,boolq, gsm-mc"}, []string{"base"}, 3, bench.Preset{Name: "paper", Seeds: 5})
	if err != nil || !slices.Equal(plan.Suites, []string{"boolq", "code", "gsm-mc"}) || len(plan.Seeds) != 5 {
		t.Errorf("plan %+v err %v", plan, err)
	}
	plan, _, _ = benchPlan(benchFlags{seeds: 1, methods: "degaml,base"}, nil, 3, quick)
	if len(plan.Seeds) != 1 || !slices.Equal(plan.Methods, []string{"degaml", "base"}) {
		t.Errorf("flags must win: %+v", plan)
	}
	if _, _, err := benchPlan(benchFlags{methods: "maml"}, nil, 3, quick); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("unknown method: %v", err)
	}
	if _, _, err := benchPlan(benchFlags{suites: "gsm8k"}, []string{"base"}, 3, quick); err == nil {
		t.Error("unknown suite accepted")
	}
}

// latest.json must decode as the api.BenchTable that LatestBench serves.
func TestWriteLatest(t *testing.T) {
	dir := t.TempDir()
	plan := bench.Plan{Methods: []string{"base"}, Suites: []string{"boolq", "code"}, Seeds: bench.Seeds(1)}
	layout, _ := bench.SplitSuites(plan.Suites)
	tb := bench.Build("t", plan, layout, []bench.Record{{Method: "base", Suite: "boolq", Seed: 1, Accuracy: 0.5, N: 8}})
	if err := benchWriteLatest(dir, tb); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pipeline.LatestBenchPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	var bt api.BenchTable
	if err := json.Unmarshal(b, &bt); err != nil {
		t.Fatal(err)
	}
	if len(bt.Rows) != 1 || bt.Rows[0].Cells[0].Mean != 0.5 || bt.Rows[0].Cells[1].N != 0 || len(bt.Columns) != 4 {
		t.Errorf("%+v", bt)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "bench", "latest.md")); err != nil || !strings.Contains(string(md), "| Base | 50.0 |") {
		t.Errorf("latest.md: %v\n%s", err, md)
	}
}

func TestChanceLevels(t *testing.T) {
	c := benchChance(bench.Plan{Suites: []string{"boolq", "arc-easy"}, Seeds: bench.Seeds(2)})
	if c["boolq"] != 0.5 || c["arc-easy"] <= 0 || c["arc-easy"] > 0.34 {
		t.Errorf("chance %v: boolq is True/False, ARC has ≥ 3 options", c)
	}
}
