package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/internal/testref"
)

// dndFiles writes a DnD-format file of 12 four-option items per dataset.
func dndFiles(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var out []string
	for _, name := range names {
		var b strings.Builder
		for i := range 12 {
			fmt.Fprintf(&b, `{"prompt":"In %s, which word follows %d?\nA: red\nB: green\nC: blue\nD: black","response":"[%c]"}`+"\n", name, i, 'A'+rune(i%4))
		}
		p := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// qwenConfig is a config whose model is the tiny-qwen2 reference
// checkpoint, with test-time budgets of a few steps.
func qwenConfig(t *testing.T, dir string) string {
	t.Helper()
	model := filepath.Join(testref.Dir(t), "tiny-qwen2")
	p := filepath.Join(dir, "qwen.toml")
	body := fmt.Sprintf("[model]\nhf_dir = %q\n[engine]\nbackend = \"go:parallelism=-1\"\n[adapt]\ninner_steps = 2\nsupport = 3\n"+
		"[methods.union-lora]\nsteps = 3\n", model)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// `bench --tasks ... --ood-tasks ...` through the command: the columns are
// the files' dataset names, in-domain first; every cell is a number.
// (core/bench's TestBenchOverFilesEndToEnd runs every method.)
func TestBenchCommandOverFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("adapts tiny-qwen2")
	}
	dir := t.TempDir()
	cfg := qwenConfig(t, dir)
	f := dndFiles(t, dir, "alpha", "beta", "gamma", "delta")
	args := []string{"bench", "--config", cfg, "--workdir", filepath.Join(dir, "work"), "--methods", "base,nometa-lora,union-lora",
		"--seeds", "1", "--json", "--preset", "quick",
		"--tasks", f[0], "--tasks", f[1], "--tasks", f[2], "--ood-tasks", "far=" + f[3]}
	code, out, errOut := execLine(t, args...)
	if code != 0 {
		t.Fatalf("status %d\n%s", code, errOut)
	}
	var cols []string
	cells := benchCells(t, out)
	for _, c := range cells {
		if c.Method == "base" {
			cols = append(cols, c.Suite)
		}
		if c.Mean == nil || *c.Mean < 0 || *c.Mean > 1 || c.Seeds != 1 {
			t.Errorf("cell %+v", c)
		}
	}
	if got := strings.Join(cols, ","); got != "alpha,beta,gamma,far,avg-in-domain,avg-out-of-domain" {
		t.Errorf("columns %s", got)
	}
	if n := len(cells); n != 3*6 {
		t.Errorf("%d cells, want 18", n)
	}
	if !strings.Contains(errOut, "union-lora meta-training on all but beta") || !strings.Contains(errOut, "bench: 12 cells run, 0 resumed, 0 failed") {
		t.Errorf("stderr:\n%s", errOut)
	}
	// The same files resume; an edited file is another bench.
	if code, _, errOut = execLine(t, args...); code != 0 || !strings.Contains(errOut, "0 cells run, 12 resumed") {
		t.Errorf("second run: status %d\n%s", code, errOut)
	}
}

// `run --tasks FILE` adapts on one file: the result names the dataset and
// counts its test items (12 items: 3 support, 1 validation, 8 test).
func TestRunCommandOnFile(t *testing.T) {
	if testing.Short() {
		t.Skip("adapts tiny-qwen2")
	}
	dir := t.TempDir()
	f := dndFiles(t, dir, "mine")
	var out strings.Builder
	err := runCmd(&out, "run", "--config", qwenConfig(t, dir), "--workdir", filepath.Join(dir, "work"),
		"--tasks", f[0], "--method", "nometa-lora", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last struct {
		Type   string `json:"type"`
		Result struct {
			Task string `json:"task"`
			N    int    `json:"n"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "result" || last.Result.Task != "mine" || last.Result.N != 8 {
		t.Errorf("last line %s (%v)", lines[len(lines)-1], err)
	}
}

// Bad task files stop the command before anything trains, every one named
// with its line; --tasks and --suites do not mix; the built-in word model
// refuses words it cannot read.
func TestTaskFilesRejected(t *testing.T) {
	dir := t.TempDir()
	good := dndFiles(t, dir, "good")[0]
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"prompt":"q\nA: x\nB: y","response":"[B]"}`+"\n"+`{"prompt":"q\nA: x\nB: y"}`+"\n"), 0o644)
	wd := filepath.Join(dir, "work")
	code, _, errOut := execLine(t, "bench", "--workdir", wd, "--tasks", good, "--ood-tasks", bad, "--ood-tasks", filepath.Join(dir, "missing.jsonl"))
	if code == 0 || !strings.Contains(errOut, bad+":2") || !strings.Contains(errOut, "missing.jsonl") {
		t.Errorf("bad files: status %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(wd, "base")); err == nil {
		t.Error("a base model was trained before the files were checked")
	}
	code, _, errOut = execLine(t, "bench", "--workdir", wd, "--tasks", good, "--suites", "boolq")
	if code == 0 || !strings.Contains(errOut, "--suites") {
		t.Errorf("--tasks with --suites: status %d\n%s", code, errOut)
	}
	var out strings.Builder
	err := runCmd(&out, "run", "--workdir", wd, "--tasks", good, "--method", "base")
	if err == nil || !strings.Contains(err.Error(), "hf_dir") || !strings.Contains(err.Error(), "good.jsonl") {
		t.Errorf("word model on a foreign file: %v", err)
	}
	nano := filepath.Join(dir, "nano.toml") // bytes: reads any file
	os.WriteFile(nano, []byte("[model]\npreset = \"nano\"\n"), 0o644)
	err = runCmd(&out, "run", "--config", nano, "--workdir", wd, "--tasks", good, "--task", "other", "--method", "base")
	if err == nil || !strings.Contains(err.Error(), `unknown dataset "other"`) {
		t.Errorf("--task naming no file: %v", err)
	}
}
