package loaders

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/degaml/workbench/tasks"
)

// arcFile writes n distinct ARC-format items.
func arcFile(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"%d","question":"Q%d?","choices":{"text":["a","b","c"],"label":["A","B","C"]},"answerKey":"B"}`+"\n", i, i)
	}
	return write(t, "mine.jsonl", b.String())
}

func TestLoadTaskSplits(t *testing.T) {
	for _, c := range []struct{ n, train, val int }{
		{8, 2, 1},     // the fewest accepted: 30 % and 15 % rounded down
		{20, 6, 3},    //
		{300, 64, 32}, // the support and validation caps
	} {
		path := arcFile(t, c.n)
		task, err := LoadTask(path, "")
		if err != nil {
			t.Fatalf("%d items: %v", c.n, err)
		}
		sp := task.Splits
		if len(sp.Train) != c.train || len(sp.Val) != c.val || len(sp.Test) != c.n-c.train-c.val {
			t.Errorf("%d items: splits %d/%d/%d, want %d/%d/%d", c.n, len(sp.Train), len(sp.Val), len(sp.Test), c.train, c.val, c.n-c.train-c.val)
		}
		// Every item lands in exactly one split.
		seen := map[string]int{}
		for _, s := range [][]string{prompts(sp.Train), prompts(sp.Val), prompts(sp.Test)} {
			for _, p := range s {
				seen[p]++
			}
		}
		if len(seen) != c.n {
			t.Errorf("%d items: %d distinct items across the splits", c.n, len(seen))
		}
		if task.Name != "mine" || task.Suite != path || task.Domain != "user" {
			t.Errorf("task %q suite %q domain %q", task.Name, task.Suite, task.Domain)
		}
		// The shuffle is fixed: loading again gives the same splits.
		again, _ := LoadTask(path, "")
		if !reflect.DeepEqual(again.Splits, task.Splits) {
			t.Errorf("%d items: splits differ between two loads", c.n)
		}
	}
	// The shuffle does mix: the first support items are not the file's first.
	task, _ := LoadTask(arcFile(t, 300), "")
	if reflect.DeepEqual(prompts(task.Splits.Train[:5]), []string{"Q0?", "Q1?", "Q2?", "Q3?", "Q4?"}) {
		t.Error("support split is the file's head: not shuffled")
	}
}

func TestLoadTaskTooFew(t *testing.T) {
	_, err := LoadTask(arcFile(t, 7), "")
	if err == nil || !strings.Contains(err.Error(), "mine.jsonl: 7 multiple-choice items; need at least 8") {
		t.Fatalf("7 items: %v", err)
	}
}

func prompts(exs []tasks.Example) []string {
	out := make([]string, len(exs))
	for i, e := range exs {
		out[i] = e.Prompt
	}
	return out
}
