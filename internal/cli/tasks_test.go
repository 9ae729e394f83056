package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTasksCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`[
 {"prompt":"Q\nA: x\nB: y","response":"[B]"},
 {"prompt":"Q\nA: x\nB: y\nC: z\nD: w","response":"[A]"},
 {"prompt":"It is.","response":"[True]"}
]`), 0o644)
	var out bytes.Buffer
	// FILE before the flags.
	if err := runCmd(&out, "tasks", "check", good, "--json"); err != nil {
		t.Fatal(err)
	}
	want := `{"file":"` + good + `","format":"dnd","records":3,"options":{"2":2,"4":1},"answers":{"A":2,"B":1}}`
	if strings.TrimSpace(out.String()) != want {
		t.Errorf("got %s want %s", out.String(), want)
	}
	out.Reset()
	if err := runCmd(&out, "tasks", "check", "--format", "dnd", good); err != nil || !strings.Contains(out.String(), "3 records, format dnd") {
		t.Errorf("text output %q err %v", out.String(), err)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("[\n {\"prompt\":\"Q\\nA: x\\nB: y\",\"response\":\"[B]\"},\n {\"prompt\":\"Q\\nA: x\\nB: y\",\n  \"response\":\"[Z]\"}\n]"), 0o644)
	err := runCmd(&out, "tasks", "check", bad, "--json")
	if err == nil || !strings.HasPrefix(err.Error(), bad+":4: record 2: field \"response\"") {
		t.Errorf("err %v", err)
	}
	jl := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(jl, []byte("{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}\n{\"goal\":\"g\",\"sol1\":\"a\",\"label\":0}\n{\"goal\":1,\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}\n"), 0o644)
	err = runCmd(&out, "tasks", "check", jl)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], jl+":2: ") || !strings.HasPrefix(lines[1], jl+":3: ") {
		t.Errorf("lines %q", lines)
	}
	if err := runCmd(&out, "tasks", "check", "--bogus", good); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := runCmd(&out, "tasks", "check"); err == nil {
		t.Error("missing FILE accepted")
	}
}

func TestTasksShow(t *testing.T) {
	var out bytes.Buffer
	// NAME#I is the same instance as --instance I; flags may come before NAME.
	if err := runCmd(&out, "tasks", "show", "--n", "2", "math-mc#3"); err != nil {
		t.Fatal(err)
	}
	first := out.String()
	out.Reset()
	if err := runCmd(&out, "tasks", "show", "--instance", "3", "math-mc", "--n", "2"); err != nil || out.String() != first {
		t.Errorf("--instance 3 differs from #3 (%v):\n%s\n---\n%s", err, out.String(), first)
	}
	if !strings.Contains(first, "hidden parameters") || strings.Count(first, "--- train example") != 2 {
		t.Errorf("output:\n%s", first)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"math-mc#3", "--instance", "4"}, `"math-mc#3" conflicts with --instance 4`},
		{[]string{"math-mc#x"}, "bad instance"},
		{[]string{"math-mc", "--split", "dev"}, `unknown split "dev"`},
		{[]string{"math-mc", "--level", "hard"}, `unknown level "hard"`},
		{[]string{"math-mc", "--n", "-1"}, "--n must be >= 0"},
		{[]string{"math-mc", "logic"}, "unexpected arguments"},
		{nil, "missing suite NAME (suites: arc-easy"},
	} {
		err := runCmd(io.Discard, append([]string{"tasks", "show"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tasks show %v: %v, want %q", c.args, err, c.want)
		}
	}
	if err := runCmd(io.Discard, "tasks", "bogus"); err == nil || !strings.Contains(err.Error(), `unknown subcommand "bogus" (have: show, check)`) {
		t.Errorf("tasks bogus: %v", err)
	}
}
