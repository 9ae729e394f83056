package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/loaders"
)

// writeDnD writes n DnD-format items of a dataset; the words differ per
// dataset so that two files never share an item.
func writeDnD(t *testing.T, dir, name string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"prompt":"%s question %d?\nA: yes\nB: no\nC: maybe","response":"[%c]"}`+"\n", name, i, 'A'+rune(i%3))
	}
	p := filepath.Join(dir, name+".jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fileWorkbench opens a workbench whose model is a checkpoint directory (it
// is never loaded here: nothing trains) with the given task set.
func fileWorkbench(t *testing.T, set *TaskSet) *Workbench {
	t.Helper()
	cfg := defaultConfig(t, "")
	cfg.Model.HFDir = "/nonexistent/checkpoint"
	w, err := Open(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.SetTaskSet(set); err != nil {
		t.Fatal(err)
	}
	return w
}

func suitesOf(ts []*tasks.Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Suite)
	}
	return out
}

func TestLoadTaskFilesNamesRolesAndErrors(t *testing.T) {
	dir := t.TempDir()
	a, b := writeDnD(t, dir, "arc-easy", 10), writeDnD(t, dir, "boolq", 12)
	other := filepath.Join(dir, "test-00000.jsonl")
	if err := os.Rename(writeDnD(t, dir, "x", 9), other); err != nil {
		t.Fatal(err)
	}
	set, err := LoadTaskFiles([]TaskFile{
		ParseTaskFile(a, tasks.InDomain), ParseTaskFile(b, tasks.InDomain),
		ParseTaskFile("gsm="+other, tasks.OutOfDomain),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Names(""); !slices.Equal(got, []string{"arc-easy", "boolq", "gsm"}) {
		t.Errorf("dataset names %v", got)
	}
	if !slices.Equal(set.Names(tasks.InDomain), []string{"arc-easy", "boolq"}) || !slices.Equal(set.Names(tasks.OutOfDomain), []string{"gsm"}) {
		t.Errorf("roles: in %v, out %v", set.Names(tasks.InDomain), set.Names(tasks.OutOfDomain))
	}
	g := set.Task("gsm")
	if g == nil || g.Name != "gsm" || g.Role != tasks.OutOfDomain || set.Paths["gsm"] != other {
		t.Fatalf("gsm: %+v, path %q", g, set.Paths["gsm"])
	}
	if n := len(g.Splits.Train) + len(g.Splits.Val) + len(g.Splits.Test); n != 9 || len(g.Splits.Test) == 0 {
		t.Errorf("gsm splits %s", g)
	}

	// Every bad file is reported, each with its file (and line), before
	// anything could train.
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"prompt":"q\nA: x\nB: y","response":"[B]"}`+"\n"+`{"prompt":"q\nA: x\nB: y","response":"[Z]"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	few := writeDnD(t, dir, "few", 5)
	_, err = LoadTaskFiles([]TaskFile{{Path: bad, Role: tasks.InDomain}, {Path: a, Role: tasks.InDomain},
		{Path: few, Role: tasks.OutOfDomain}, {Path: filepath.Join(dir, "sub", "arc-easy.jsonl"), Role: tasks.OutOfDomain}})
	if err == nil {
		t.Fatal("bad files accepted")
	}
	for _, want := range []string{bad + ":2", few + ": 5 multiple-choice items", `dataset name "arc-easy" is also ` + a} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := LoadTaskFiles([]TaskFile{{Path: a, Role: "user"}}); err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("bad role: %v", err)
	}
	if _, err := LoadTaskFiles([]TaskFile{ParseTaskFile("a#1="+a, tasks.InDomain)}); err == nil {
		t.Error("a file named a#1=... that does not exist was accepted")
	}
	if _, err := LoadTaskFiles([]TaskFile{ParseTaskFile("gsm=", tasks.OutOfDomain)}); err == nil || err.Error() != "gsm=: no file after the '=' (want NAME=FILE)" {
		t.Errorf("NAME= without a file: %v", err)
	}
}

func TestParseTaskFile(t *testing.T) {
	dir := t.TempDir()
	eq := filepath.Join(dir, "k=v.jsonl")
	if err := os.WriteFile(eq, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		arg        string
		name, path string
	}{
		{"data/arc.jsonl", "", "data/arc.jsonl"},
		{"arc-easy=data/test-00000.jsonl", "arc-easy", "data/test-00000.jsonl"},
		{eq, "", eq},                       // an existing file with "=" in its name
		{"a/b=c.jsonl", "", "a/b=c.jsonl"}, // a path before "=": not a name
		{"=c.jsonl", "", "=c.jsonl"},       // an empty name
		{"x y=c.jsonl", "", "x y=c.jsonl"}, // not a dataset name
		{"gsm.v2=g.json", "gsm.v2", "g.json"},
	} {
		got := ParseTaskFile(c.arg, tasks.OutOfDomain)
		if got.Name != c.name || got.Path != c.path || got.Role != tasks.OutOfDomain {
			t.Errorf("%q: %+v, want name %q path %q", c.arg, got, c.name, c.path)
		}
	}
}

// The paper protocol over files: an in-domain file is held out of the
// pool it is evaluated after; an out-of-domain file is evaluated after the
// whole in-domain pool and never trained on. Worlds holds nothing out.
func TestFileProtocolPools(t *testing.T) {
	dir := t.TempDir()
	set, err := LoadTaskFiles([]TaskFile{
		{Path: writeDnD(t, dir, "d1", 10), Role: tasks.InDomain},
		{Path: writeDnD(t, dir, "d2", 10), Role: tasks.InDomain},
		{Path: writeDnD(t, dir, "d3", 10), Role: tasks.InDomain},
		{Path: writeDnD(t, dir, "ood", 10), Role: tasks.OutOfDomain},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := fileWorkbench(t, set)
	if err := w.SetProtocol(ProtocolPaper); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		suite, heldOut string
		pool           []string
	}{
		{"d1", "d1", []string{"d2", "d3"}},
		{"d2", "d2", []string{"d1", "d3"}},
		{"ood", "", []string{"d1", "d2", "d3"}},
	} {
		h := w.HeldOut(c.suite)
		if h != c.heldOut {
			t.Errorf("paper: %s holds out %q, want %q", c.suite, h, c.heldOut)
		}
		if pool := suitesOf(w.metaTrainPool(h)); !slices.Equal(pool, c.pool) {
			t.Errorf("paper: %s meta-trains on %v, want %v", c.suite, pool, c.pool)
		}
	}
	if err := w.SetProtocol(ProtocolWorlds); err != nil {
		t.Fatal(err)
	}
	if h := w.HeldOut("d1"); h != "" {
		t.Errorf("worlds: d1 holds out %q", h)
	}
	// Runs resolve datasets, never a built-in suite, and the seed does not
	// move a file's splits.
	t1, err := w.Task("d2", 1)
	if err != nil {
		t.Fatal(err)
	}
	if t5, _ := w.Task("d2", 5); t5 != t1 || t1.Suite != "d2" {
		t.Errorf("seed changed the task: %v vs %v", t1, t5)
	}
	if _, err := w.Task("boolq", 1); err == nil || !strings.Contains(err.Error(), "d1, d2, d3, ood") {
		t.Errorf("a built-in suite in a file bench: %v", err)
	}
	if got := w.Suites(); len(got) != 4 || got[3].Role != string(tasks.OutOfDomain) || !strings.Contains(got[0].Description, "d1.jsonl") {
		t.Errorf("Suites %+v", got)
	}
}

// Artifacts and results are keyed by the files' contents: an edited file
// retrains instead of reusing what was learned on the old one.
func TestFilePoolKeys(t *testing.T) {
	dir := t.TempDir()
	load := func(n int) *Workbench {
		set, err := LoadTaskFiles([]TaskFile{
			{Path: writeDnD(t, dir, "d1", 10), Role: tasks.InDomain},
			{Path: writeDnD(t, dir, "d2", n), Role: tasks.InDomain},
		})
		if err != nil {
			t.Fatal(err)
		}
		return fileWorkbench(t, set)
	}
	w10, w11 := load(10), load(11)
	if w10.TaskSetKey() == "" || w10.TaskSetKey() == w11.TaskSetKey() {
		t.Errorf("task set keys %q %q", w10.TaskSetKey(), w11.TaskSetKey())
	}
	// d2 held out: the pool is d1 alone, the same in both.
	if k1, k2 := w10.poolKey(w10.metaTrainPool("d2")), w11.poolKey(w11.metaTrainPool("d2")); k1 != k2 {
		t.Errorf("same pool, different keys %v %v", k1, k2)
	}
	if k1, k2 := w10.poolKey(w10.metaTrainPool("d1")), w11.poolKey(w11.metaTrainPool("d1")); k1 == k2 {
		t.Errorf("edited d2, same pool key %v", k1)
	}
}

// The built-in word model reads only its own words: a file of other words
// is refused before anything trains, naming the file and the fix.
func TestWordModelRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	set, err := LoadTaskFiles([]TaskFile{{Path: writeDnD(t, dir, "zebra", 10), Role: tasks.InDomain}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig(t, "")
	w, err := Open(cfg, t.TempDir()) // preset nano-word
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.SetTaskSet(set)
	if err == nil || !strings.Contains(err.Error(), "zebra.jsonl") || !strings.Contains(err.Error(), "hf_dir") {
		t.Errorf("word model with foreign files: %v", err)
	}
	if w.TaskSet() != nil {
		t.Error("a refused task set was kept")
	}
	// The TUI's --tasks files get the same check before anything trains.
	path := filepath.Join(dir, "zebra.jsonl")
	ut, err := loaders.LoadTask(path, "")
	if err != nil {
		t.Fatal(err)
	}
	before := len(w.Suites())
	if err := w.AddUserTasks(ut); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "hf_dir") {
		t.Errorf("word model with a foreign user task: %v", err)
	}
	if len(w.Suites()) != before {
		t.Error("a refused user task is offered in Suites")
	}
}
