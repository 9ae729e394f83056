package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/bench"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/pipeline"
)

// `bench engine --json` is read by scripts: every field must stay, with plausible values.
func TestBenchEngineJSONFields(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "") // the default backend
	var out bytes.Buffer
	if err := runCmd(&out, "bench", "engine", "--json", "--reps", "1", "--rank", "4"); err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	positive := []string{"params", "batch", "seq_len", "lora_rank", "lora_step_ms", "train_step_ms", "lora_step_cpu_ms",
		"train_step_cpu_ms", "decode_tokens_per_s", "decode_new_tokens", "decode_cpu_us_per_token", "gflops",
		"lora_step_flops", "reps"}
	for _, k := range positive {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, res[k])
		}
	}
	if res["preset"] != "nano" || res["backend"] != "go" || res["lora_rank"] != 4.0 {
		t.Errorf("preset/backend/rank: %v %v %v", res["preset"], res["backend"], res["lora_rank"])
	}
	for _, k := range []string{"simd", "skip_identity_transposes"} {
		if _, ok := res[k].(bool); !ok {
			t.Errorf("%s = %v, want a bool", k, res[k])
		}
	}
	if res["skip_identity_transposes"] != true {
		t.Error("the default go backend should skip identity transposes")
	}
	if err := runCmd(&out, "bench", "engine", "--reps", "0"); err == nil {
		t.Error("--reps 0 accepted")
	}
}

// `bench merge` prints the full plan's table from shard stores, and fails
// (after printing) when a shard is missing.
func TestBenchMergeCommand(t *testing.T) {
	plan := bench.Plan{Methods: []string{"base", "degaml"}, Suites: []string{"boolq", "code"}, Seeds: bench.Seeds(2)}
	layout, err := bench.SplitSuites(plan.Suites)
	if err != nil {
		t.Fatal(err)
	}
	run := func(_ context.Context, c bench.Cell, _ func(events.Event)) (*events.ResultInfo, error) {
		return &events.ResultInfo{Accuracy: 0.25 * float64(c.Seed), N: 8, WallS: 1}, nil
	}
	var dirs []string
	for i := range 2 {
		d := t.TempDir()
		p := plan
		p.Shard = bench.Shard{Index: i, Count: 2}
		st, err := bench.OpenStore(filepath.Join(d, "bench", bench.StoreFile("quick-abc", p.Shard)))
		if err != nil {
			t.Fatal(err)
		}
		if err := bench.WriteManifest(st.Path(), "quick-abc", "merged title", p, layout); err != nil {
			t.Fatal(err)
		}
		if _, err := bench.Run(context.Background(), p, run, st, nil); err != nil {
			t.Fatal(err)
		}
		st.Close()
		dirs = append(dirs, d)
	}
	var out bytes.Buffer
	if err := runCmd(&out, append([]string{"bench", "merge", "--csv"}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	// Seeds 1 and 2 give 25 % and 50 %: every cell's mean is 37.5 % over both seeds.
	if s := out.String(); strings.Count(s, "\n") < 3 || !strings.Contains(s, "0.375") {
		t.Errorf("merged CSV:\n%s", s)
	}
	out.Reset()
	err = runCmd(&out, "bench", "merge", dirs[0])
	if err == nil || !strings.Contains(err.Error(), "shard(s) [1] of 2 missing") || !strings.Contains(out.String(), "merged title") {
		t.Errorf("one shard of two: %v\n%s", err, out.String())
	}
}

// benchCell is a line of `bench --json`, spelled out here so that the test
// checks the format other tools parse rather than the type that writes it.
type benchCell struct {
	Method string   `json:"method"`
	Suite  string   `json:"suite"`
	Mean   *float64 `json:"mean"`
	Seeds  int      `json:"seeds"`
}

// benchCells parses the standard output of `bench --json`: one cell a line.
func benchCells(t *testing.T, out string) []benchCell {
	t.Helper()
	var cells []benchCell
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c benchCell
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		cells = append(cells, c)
	}
	return cells
}

// A one-cell bench end to end: it trains the (tiny) base, runs the cell,
// prints the table, leaves latest.json for the TUI, and a second run
// resumes instead of recomputing.
func TestBenchCommandRunsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a (tiny) base model")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.toml")
	if err := os.WriteFile(cfg, []byte("[pipeline]\npretrain_steps = 4\npretrain_batch = 4\ntrain_instances = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd := filepath.Join(dir, "work")
	args := []string{"bench", "--config", cfg, "--workdir", wd, "--methods", "base", "--suites", "boolq", "--seeds", "1", "--json", "--preset", "quick"}
	code, out, errOut := execLine(t, args...)
	if code != 0 {
		t.Fatalf("status %d\n%s", code, errOut)
	}
	if cell := benchCells(t, out)[0]; cell.Method != "base" || cell.Seeds != 1 || cell.Mean == nil {
		t.Fatalf("first JSON cell %+v in\n%s", cell, out)
	}
	if !strings.Contains(errOut, "bench: 1 cells run, 0 resumed, 0 failed") {
		t.Errorf("summary line missing:\n%s", errOut)
	}
	if _, err := pipeline.ReadLatestBench(wd); err != nil {
		t.Errorf("latest.json: %v", err)
	}
	code, out2, errOut := execLine(t, args...)
	if code != 0 || out2 != out || !strings.Contains(errOut, "bench: 0 cells run, 1 resumed, 0 failed") {
		t.Errorf("second run: status %d, same table %v\n%s", code, out2 == out, errOut)
	}
}
