package suites

import (
	"testing"

	"github.com/degaml/workbench/tasks"
)

// TestIdentifiableFromSupport: for the families whose hidden space is small
// enough to enumerate, an ideal learner that keeps every hypothesis
// consistent with the first 16 labelled support items and votes answers the
// test split almost perfectly, i.e. ~16 examples pin the hidden parameters
// down (the labels are the information the base model lacks).
func TestIdentifiableFromSupport(t *testing.T) {
	if testing.Short() {
		t.Skip("enumerates hidden spaces")
	}
	cache := map[string][]map[string]string{}
	for _, c := range []struct {
		name    string
		support int
	}{{"math-mc", 8}, {"math-mc", 16}, {"logic", 8}, {"logic", 16}, {"code", 8}, {"code", 16}} {
		name, support := c.name, c.support
		fam, _ := ByName(name)
		f := fam.(*family)
		if cache[name] == nil {
			cache[name] = make([]map[string]string, f.space)
			for h := range f.space {
				cache[name][h] = f.build(h).hidden()
			}
		}
		worlds := cache[name]
		solve := solvers[name]
		var acc, n, alive float64
		for i := range 4 {
			tk := fam.Instance(testSeed, i, Easy)
			var keep []map[string]string
			for _, w := range worlds {
				ok := true
				for _, ex := range tk.Splits.Train[:support] {
					if got, err := solve(w, ex); err != nil || got != ex.Answer {
						ok = false
						break
					}
				}
				if ok {
					keep = append(keep, w)
				}
			}
			alive += float64(len(keep))
			for _, ex := range tk.Splits.Test {
				if vote(keep, ex, solve) == ex.Answer {
					acc++
				}
				n++
			}
		}
		t.Logf("%s: %.1f of %d hypotheses survive %d support items; vote accuracy %.3f", name, alive/4, f.space, support, acc/n)
		if support >= 16 && acc/n < 0.9 {
			t.Errorf("%s: ideal learner reaches only %.3f after %d support items", name, acc/n, support)
		}
	}
}

func vote(ws []map[string]string, ex tasks.Example, solve solver) int {
	counts := make([]int, len(ex.Options))
	for _, w := range ws {
		if a, err := solve(w, ex); err == nil {
			counts[a]++
		}
	}
	best := 0
	for i, c := range counts {
		if c > counts[best] {
			best = i
		}
	}
	return best
}
