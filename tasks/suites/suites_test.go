package suites

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/degaml/workbench/tasks"
)

const testSeed = 7

func forEachLevel(t *testing.T, f func(t *testing.T, fam tasks.Family, level string)) {
	for _, fam := range All() {
		for _, lv := range Levels() {
			t.Run(fam.Name()+"/"+lv, func(t *testing.T) { f(t, fam, lv) })
		}
	}
}

func allExamples(tk *tasks.Task) []tasks.Example {
	return slices.Concat(tk.Splits.Train, tk.Splits.Val, tk.Splits.Test)
}

func hiddenString(h map[string]string) string {
	var sb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fmt.Fprintf(&sb, "%s=%s;", k, h[k])
	}
	return sb.String()
}

func TestRegistry(t *testing.T) {
	want := []string{"arc-easy", "arc-challenge", "hellaswag", "boolq", "piqa", "winogrande",
		"gsm-mc", "math-mc", "logic", "social", "code", "medical"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for i, fam := range All() {
		role := tasks.InDomain
		if i >= 6 {
			role = tasks.OutOfDomain
		}
		if fam.Role() != role || fam.Domain() == "" || fam.Description() == "" {
			t.Errorf("%s: role %q domain %q desc %q", fam.Name(), fam.Role(), fam.Domain(), fam.Description())
		}
		if f, err := ByName(fam.Name()); err != nil || f.Name() != fam.Name() {
			t.Errorf("ByName(%q) = %v, %v", fam.Name(), f, err)
		}
		if _, ok := solvers[fam.Name()]; !ok {
			t.Errorf("%s has no independent solver", fam.Name())
		}
	}
	if _, err := ByName("nope"); err == nil {
		t.Error("ByName(nope) did not fail")
	}
}

// TestSolversAgree re-solves every generated item of many instances with the
// independent, prompt-parsing solvers.
func TestSolversAgree(t *testing.T) {
	forEachLevel(t, func(t *testing.T, fam tasks.Family, lv string) {
		solve := solvers[fam.Name()]
		n := 0
		for i := range 40 {
			tk := fam.Instance(testSeed, i*25, lv)
			for _, ex := range allExamples(tk) {
				got, err := solve(tk.Hidden, ex)
				if err != nil || got != ex.Answer {
					t.Fatalf("%s: solver says %d (%v), gold %d\nhidden %v\n%s", tk.Name, got, err, ex.Answer, tk.Hidden, ex.DnDPrompt())
				}
				n++
			}
		}
		t.Logf("%d items re-solved", n)
	})
}

// TestHiddenMatters solves instance i's items with instance i+1's hidden
// parameters: accuracy must stay near chance, i.e. the items cannot be
// answered without discovering the instance's own parameters.
func TestHiddenMatters(t *testing.T) {
	forEachLevel(t, func(t *testing.T, fam tasks.Family, lv string) {
		solve := solvers[fam.Name()]
		var acc, chance float64
		n := 0
		for i := range 20 {
			tk := fam.Instance(testSeed, i, lv)
			other := fam.Instance(testSeed, i+100, lv).Hidden
			for _, ex := range tk.Splits.Test {
				k := float64(len(ex.Options))
				got, err := solve(other, ex)
				switch {
				case err != nil:
					acc += 1 / k // undecidable under the wrong world: a guess
				case got == ex.Answer:
					acc++
				}
				chance += 1 / k
				n++
			}
		}
		acc, chance = acc/float64(n), chance/float64(n)
		t.Logf("wrong-world accuracy %.3f (chance %.3f)", acc, chance)
		if acc > chance+0.15 {
			t.Errorf("wrong-world accuracy %.3f too far above chance %.3f: the hidden parameters barely matter", acc, chance)
		}
	})
}

// TestBaselines checks answer-letter balance and that always-A and
// longest-option (and, for numeric options, smallest/largest number) stay
// within 5 points of chance over >= 2,000 items.
func TestBaselines(t *testing.T) {
	forEachLevel(t, func(t *testing.T, fam tasks.Family, lv string) {
		var n, nNum int
		var a, long, chance, small, large float64
		counts := map[int]int{}
		for i := 0; n < 2000; i++ {
			tk := fam.Instance(testSeed, 3*i+1, lv)
			for _, ex := range allExamples(tk) {
				k := len(ex.Options)
				chance += 1 / float64(k)
				if ex.Answer == 0 {
					a++
				}
				lo := 0 // longest option, ties to the first
				for j, o := range ex.Options {
					if len(o) > len(ex.Options[lo]) {
						lo = j
					}
				}
				if lo == ex.Answer {
					long++
				}
				counts[ex.Answer]++
				if v, ok := numeric(ex.Options); ok {
					nNum++
					if ex.Answer == slices.Index(v, slices.Min(v)) {
						small++
					}
					if ex.Answer == slices.Index(v, slices.Max(v)) {
						large++
					}
				}
				n++
			}
		}
		a, long, chance = a/float64(n), long/float64(n), chance/float64(n)
		t.Logf("n=%d chance %.3f always-A %.3f longest %.3f letters %v", n, chance, a, long, counts)
		if math.Abs(a-chance) > 0.05 || math.Abs(long-chance) > 0.05 {
			t.Errorf("baseline off chance %.3f: always-A %.3f, longest %.3f", chance, a, long)
		}
		if nNum > 0 {
			small, large = small/float64(nNum), large/float64(nNum)
			t.Logf("numeric options on %d items: smallest %.3f, largest %.3f", nNum, small, large)
			if math.Abs(small-0.25) > 0.05 || math.Abs(large-0.25) > 0.05 {
				t.Errorf("smallest/largest-number baselines %.3f/%.3f off chance 0.25", small, large)
			}
		}
		for letter, c := range counts {
			if f := float64(c) / float64(n); math.Abs(f-chance) > 0.05 {
				t.Errorf("letter %s answers %.3f of items (chance %.3f)", tasks.Letter(letter), f, chance)
			}
		}
	})
}

// numeric parses options that are all integers.
func numeric(opts []string) ([]int, bool) {
	v := make([]int, len(opts))
	for i, o := range opts {
		x, err := strconv.Atoi(o)
		if err != nil {
			return nil, false
		}
		v[i] = x
	}
	return v, len(v) > 2
}

// TestDistinctInstances: NumInstances >= 1000 and instances 0..999 have
// pairwise distinct hidden parameters.
func TestDistinctInstances(t *testing.T) {
	old := SplitSizes
	SplitSizes = Sizes{Train: 1, Val: 1, Test: 1} // only Hidden matters here
	defer func() { SplitSizes = old }()
	for _, fam := range All() {
		if fam.NumInstances() < 1000 {
			t.Errorf("%s: NumInstances %d < 1000", fam.Name(), fam.NumInstances())
		}
		seen := map[string]int{}
		for i := range 1000 {
			tk := fam.Instance(testSeed, i, "")
			if len(tk.Hidden) == 0 {
				t.Fatalf("%s: empty Hidden", tk.Name)
			}
			h := hiddenString(tk.Hidden)
			if j, dup := seen[h]; dup {
				t.Fatalf("%s: instances %d and %d share hidden parameters %s", fam.Name(), j, i, h)
			}
			seen[h] = i
		}
	}
}

func TestDeterministicAndNamed(t *testing.T) {
	for _, fam := range All() {
		a := fam.Instance(testSeed, 17, "")
		b := fam.Instance(testSeed, 17, "")
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: Instance not deterministic", fam.Name())
		}
		c := fam.Instance(testSeed+1, 17, "")
		if reflect.DeepEqual(a.Hidden, c.Hidden) && reflect.DeepEqual(a.Splits, c.Splits) {
			t.Errorf("%s: seed has no effect", fam.Name())
		}
		if a.Name != fam.Name()+"#17" || a.Suite != fam.Name() || a.Domain != fam.Domain() || a.Role != fam.Role() {
			t.Errorf("%s: task metadata %q %q %q %q", fam.Name(), a.Name, a.Suite, a.Domain, a.Role)
		}
		// The two levels share the instance's hidden world.
		other := Easy
		if fam.Name() != "arc-challenge" {
			other = Challenge
		}
		d := fam.Instance(testSeed, 17, other)
		if !reflect.DeepEqual(a.Hidden, d.Hidden) || d.Name != a.Name+"@"+other {
			t.Errorf("%s: level %s changed hidden params or is misnamed %q", fam.Name(), other, d.Name)
		}
	}
}

// TestSplits: exact sizes, and no example (prompt + options, in any order)
// appears twice within or across splits.
func TestSplits(t *testing.T) {
	forEachLevel(t, func(t *testing.T, fam tasks.Family, lv string) {
		for i := range 30 {
			tk := fam.Instance(testSeed, i*31, lv)
			s := tk.Splits
			if len(s.Train) != SplitSizes.Train || len(s.Val) != SplitSizes.Val || len(s.Test) != SplitSizes.Test {
				t.Fatalf("%s: split sizes %s, want %+v", tk.Name, tk, SplitSizes)
			}
			seen := map[string]string{}
			for name, xs := range map[string][]tasks.Example{"train": s.Train, "val": s.Val, "test": s.Test} {
				for _, ex := range xs {
					o := slices.Clone(ex.Options)
					slices.Sort(o)
					for _, key := range []string{ex.DnDPrompt(), ex.Prompt + "|" + strings.Join(o, "|")} {
						if prev, dup := seen[key]; dup {
							t.Fatalf("%s: %s and %s share %q", tk.Name, prev, name, key)
						}
						seen[key] = name
					}
				}
			}
		}
	})
}

// TestSplitSizesOption: the split sizes are a package-level option.
func TestSplitSizesOption(t *testing.T) {
	old := SplitSizes
	SplitSizes = Sizes{Train: 16, Val: 8, Test: 12}
	defer func() { SplitSizes = old }()
	tk := All()[0].Instance(testSeed, 3, "")
	if len(tk.Splits.Train) != 16 || len(tk.Splits.Val) != 8 || len(tk.Splits.Test) != 12 {
		t.Fatalf("got %s", tk)
	}
}

// TestPromptBytes: rendered prompts fit the small models' context.
func TestPromptBytes(t *testing.T) {
	forEachLevel(t, func(t *testing.T, fam tasks.Family, lv string) {
		limit := MaxEasyBytes
		if lv == Challenge {
			limit = MaxChallengeBytes
		}
		longest, total, n := 0, 0, 0
		for i := range 30 {
			for _, ex := range allExamples(fam.Instance(testSeed, i*7, lv)) {
				b := len(ex.DnDPrompt())
				if b > limit {
					t.Fatalf("%d-byte prompt over %d:\n%s", b, limit, ex.DnDPrompt())
				}
				if len(ex.Options) < 2 || ex.Answer < 0 || ex.Answer >= len(ex.Options) {
					t.Fatalf("malformed example %+v", ex)
				}
				longest, total, n = max(longest, b), total+b, n+1
			}
		}
		t.Logf("prompt bytes: max %d, mean %.0f", longest, float64(total)/float64(n))
	})
}

func TestInvalidArgsPanic(t *testing.T) {
	fam := All()[0]
	for _, f := range []func(){
		func() { fam.Instance(1, -1, "") },
		func() { fam.Instance(1, fam.NumInstances(), "") },
		func() { fam.Instance(1, 0, "hard") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func TestPermuteIsBijection(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 1000, 1620, 4097} {
		seen := make([]bool, n)
		for i := range n {
			x := permute(99, i, n)
			if x >= n || seen[x] {
				t.Fatalf("n=%d: permute(%d)=%d repeats or out of range", n, i, x)
			}
			seen[x] = true
		}
	}
}
