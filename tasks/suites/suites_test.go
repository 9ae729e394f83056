package suites

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
)

const testSeed = 7

// numberWord maps the number words back to numbers, written out again here
// so the solver does not share the generator's table.
var numberWord = map[string]int{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20}

// question is the prompt after the tag and the trace (or neutral) line.
func question(p string) string {
	_, rest, _ := strings.Cut(p, " : ")
	_, q, _ := strings.Cut(rest, " . ")
	return q
}

// after returns the word following the first occurrence of marker in q.
func after(q, marker string) string {
	_, rest, ok := strings.Cut(q, marker+" ")
	if !ok {
		return ""
	}
	return strings.Fields(rest)[0]
}

func holds(h map[string]string, key, val string) bool {
	return slices.Contains(strings.Fields(h[key]), val)
}

// solve answers ex from the task's hidden table alone, by reading the
// question's words: an independent re-implementation of every suite.
func solve(suite string, h map[string]string, ex tasks.Example) (int, error) {
	q := question(ex.Prompt)
	var right func(opt string) bool
	switch suite {
	case "arc-easy", "arc-challenge", "hellaswag", "winogrande":
		var props []string
		for _, p := range []string{"magnetic", "buoyant", "brittle", "shiny"} {
			if slices.Contains(strings.Fields(q), p) {
				props = append(props, p)
			}
		}
		right = func(o string) bool {
			for _, p := range props {
				if !holds(h, p, o) {
					return false
				}
			}
			return len(props) > 0
		}
	case "piqa":
		goal := map[string]string{"lift a nail": "magnetic", "stay afloat": "buoyant", "make sharp shards": "brittle", "reflect the light": "shiny"}
		_, g, _ := strings.Cut(q, " wants to ")
		g, _, _ = strings.Cut(g, " ,")
		right = func(o string) bool { return holds(h, goal[g], o) }
	case "boolq":
		f := strings.Fields(q[strings.Index(q, "question : is the "):])
		yes := holds(h, f[5], f[4])
		right = func(o string) bool { return (o == "yes") == yes }
	case "gsm-mc":
		n, good := numberWord[after(q, "buys")], strings.Fields(q)[3]
		right = func(o string) bool { return numberWord[o] == n*numberWord[h[good]] }
	case "math-mc":
		f := strings.Fields(q) // solve : x plus two = ?
		x, n := numberWord[h[f[2]]], numberWord[f[4]]
		want := x + n
		if f[3] == "times" {
			want = x * n
		}
		right = func(o string) bool { return numberWord[o] == want }
	case "logic":
		right = func(o string) bool { return o == h[strings.Fields(q)[3]] } // the room is wet .
	case "social":
		right = func(o string) bool { return o == h[after(q, "was")] }
	case "code":
		right = func(o string) bool { return o == h[after(q, "lst [")] }
	case "medical":
		right = func(o string) bool { return o == h[after(q, "presents with")] }
	default:
		return -1, fmt.Errorf("no solver for %s", suite)
	}
	ans := -1
	for i, o := range ex.Options {
		if right(o) {
			if ans >= 0 {
				return -1, fmt.Errorf("options %d and %d both right", ans, i)
			}
			ans = i
		}
	}
	if ans < 0 {
		return -1, fmt.Errorf("no option is right")
	}
	return ans, nil
}

func allSplits(t *tasks.Task) []tasks.Example {
	return slices.Concat(t.Splits.Train, t.Splits.Val, t.Splits.Test)
}

// TestAnswersResolved: an independent solver reading only the hidden table
// and the question's words finds exactly one right option, the labelled one,
// for every item of task and pretraining worlds of every suite.
func TestAnswersResolved(t *testing.T) {
	for _, f := range All() {
		var ts []*tasks.Task
		for _, i := range []int{0, 3, 501} {
			ts = append(ts, f.Instance(testSeed, i, ""))
		}
		pt, _ := Pretraining(f, testSeed, 2)
		ts = append(ts, pt)
		for _, tk := range ts {
			for _, ex := range allSplits(tk) {
				got, err := solve(f.Name(), tk.Hidden, ex)
				if err != nil || got != ex.Answer {
					t.Fatalf("%s: %q %v: solver %d (%v), label %d", tk.Name, ex.Prompt, ex.Options, got, err, ex.Answer)
				}
			}
		}
	}
}

// TestSplitsBalancedDisjoint: full splits, answer positions exactly balanced
// in every split, options distinct, no item in two splits.
func TestSplitsBalancedDisjoint(t *testing.T) {
	for _, f := range All() {
		tk := f.Instance(testSeed, 11, "")
		if len(tk.Splits.Train) != SplitSizes.Train || len(tk.Splits.Val) != SplitSizes.Val || len(tk.Splits.Test) != SplitSizes.Test {
			t.Fatalf("%s: split sizes %s", f.Name(), tk)
		}
		seen := map[string]string{}
		for name, split := range map[string][]tasks.Example{"train": tk.Splits.Train, "val": tk.Splits.Val, "test": tk.Splits.Test} {
			count := map[int]int{}
			for _, ex := range split {
				count[ex.Answer]++
				if !ex.WordAnswer {
					t.Fatalf("%s: item without WordAnswer", f.Name())
				}
				o := slices.Clone(ex.Options)
				slices.Sort(o)
				if len(slices.Compact(o)) != len(ex.Options) {
					t.Fatalf("%s: repeated option in %v", f.Name(), ex.Options)
				}
				k := canonKey(ex.Prompt, ex.Options)
				if other, dup := seen[k]; dup {
					t.Fatalf("%s: item in %s and %s: %q", f.Name(), other, name, ex.Prompt)
				}
				seen[k] = name
			}
			n := len(ex0(split).Options)
			for pos := range n {
				if count[pos] != len(split)/n {
					t.Errorf("%s %s: answer position counts %v, want %d each", f.Name(), name, count, len(split)/n)
				}
			}
		}
	}
}

func ex0(s []tasks.Example) tasks.Example { return s[0] }

// TestTracesAndRegimes: the regime never shows in a prompt except through
// fact lines: every task world has the same tag; a prompt's first line is a
// TRUE fact of its world about a row its question does not ask (about
// TraceRate of the time) or the neutral line of the same length; and worlds
// follow their regime except in a small part of their own.
func TestTracesAndRegimes(t *testing.T) {
	for _, f := range All() {
		g := f.(*family).g
		traces, n := 0, 0
		for _, i := range []int{0, 1, 2, 3, 500, 777} {
			tk := f.Instance(testSeed, i, "")
			w := g.taskWorld(testSeed, f.Name(), i)
			reg := g.regimeTables(testSeed)[i%Regimes]
			diff := 0
			for k := range reg {
				if !slices.Equal(reg[k], w.rows[k]) {
					diff++
				}
			}
			if diff == 0 || diff > 2 {
				t.Errorf("%s: world %d differs from its regime in %d rows, want 1 (2 for one-to-one tables)", f.Name(), i, diff)
			}
			if tk.Hidden["regime"] != fmt.Sprint(i%Regimes) {
				t.Errorf("%s#%d: hidden regime %q", f.Name(), i, tk.Hidden["regime"])
			}
			facts := g.facts(w)
			for _, ex := range allSplits(tk) {
				n++
				tag, rest, _ := strings.Cut(ex.Prompt, " : ")
				if tag != TaskTag {
					t.Fatalf("%s: task world tagged %q", f.Name(), tag)
				}
				line, q, _ := strings.Cut(rest, " . ")
				line += " ."
				if line == g.neutral() {
					continue
				}
				traces++
				if !slices.Contains(facts, line) {
					t.Fatalf("%s: trace %q is not a fact of the world", f.Name(), line)
				}
				// The trace's row is not one the question names.
				for k, key := range g.keys {
					for _, v := range g.vals {
						if g.fact(key, v) == line && slices.Contains(strings.Fields(q), key) && !(g.name == "code" && !strings.Contains(q, "[ "+key+" ]")) {
							t.Fatalf("%s: trace %q about the asked row %d (%q)", f.Name(), line, k, q)
						}
					}
				}
			}
			if len(strings.Fields(g.neutral())) != len(strings.Fields(facts[0])) {
				t.Errorf("%s: neutral line %q and fact lines differ in length", f.Name(), g.neutral())
			}
		}
		if r := float64(traces) / float64(n); r < TraceRate-0.02 || r > TraceRate+0.02 {
			t.Errorf("%s: %.2f of prompts carry a trace, want ≈ %.1f", f.Name(), r, TraceRate)
		}
	}
}

// TestInDomainShareRegimes: the six in-domain suites' world i follows the
// same regime table; out-of-domain groups are their own.
func TestInDomainShareRegimes(t *testing.T) {
	var groups []string
	for _, f := range All() {
		if f.Role() == tasks.InDomain && Group(f) != "commonsense" {
			t.Errorf("%s is in-domain but in group %s", f.Name(), Group(f))
		}
		if f.Role() == tasks.OutOfDomain {
			if slices.Contains(groups, Group(f)) {
				t.Errorf("out-of-domain group %s shared", Group(f))
			}
			groups = append(groups, Group(f))
		}
	}
}

// TestPretrainingDisjoint: pretraining worlds have their own tags and are
// none of the regime tables; the families of a group share them.
func TestPretrainingDisjoint(t *testing.T) {
	for _, f := range All() {
		g := f.(*family).g
		for j := range PretrainWorlds {
			pt, facts := Pretraining(f, testSeed, j)
			w := g.pretrainWorld(testSeed, j)
			for _, reg := range g.regimeTables(testSeed) {
				if tableKey(reg) == tableKey(w.rows) {
					t.Errorf("%s: pretraining world %d is a regime table", f.Name(), j)
				}
			}
			if tag := strings.Fields(pt.Splits.Train[0].Prompt)[0]; tag != fmt.Sprintf("p%d", j) {
				t.Errorf("%s: pretraining world %d tagged %q", f.Name(), j, tag)
			}
			if len(facts) == 0 {
				t.Errorf("%s: no facts", f.Name())
			}
		}
	}
	a, fa := Pretraining(all[0], testSeed, 5)
	b, fb := Pretraining(all[4], testSeed, 5)
	if !slices.Equal(fa, fb) || a.Hidden["magnetic"] != b.Hidden["magnetic"] {
		t.Errorf("in-domain families do not share pretraining world 5")
	}
}

// TestVocabularyCoversEverything: every prompt, option and fact line of
// every suite tokenizes without unknown words, and the vocabulary fits the
// word preset.
func TestVocabularyCoversEverything(t *testing.T) {
	tok, err := tokenizer.NewWord(Vocabulary(), models.WordVocabSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range All() {
		for _, lv := range Levels() {
			tk := f.Instance(testSeed, 42, lv)
			pt, facts := Pretraining(f, testSeed, 1)
			for _, ex := range append(allSplits(tk), allSplits(pt)...) {
				if err := tok.Check(ex.Prompt + " options " + strings.Join(ex.Options, " ") + " answer"); err != nil {
					t.Fatalf("%s: %v in %q", f.Name(), err, ex.Prompt)
				}
				for _, o := range ex.Options {
					if len(tok.Encode(o)) != 1 {
						t.Fatalf("%s: option %q is not one word", f.Name(), o)
					}
				}
			}
			for _, l := range facts {
				if err := tok.Check(l); err != nil {
					t.Fatalf("%s: %v", f.Name(), err)
				}
			}
		}
	}
}

// TestDeterministic: instances depend only on (seed, i, level).
func TestDeterministic(t *testing.T) {
	for _, f := range All() {
		a, b := f.Instance(testSeed, 9, ""), f.Instance(testSeed, 9, "")
		if fmt.Sprint(a) != fmt.Sprint(b) || a.Splits.Test[5].Prompt != b.Splits.Test[5].Prompt {
			t.Errorf("%s: instance not deterministic", f.Name())
		}
		if c := f.Instance(testSeed, 10, ""); c.Splits.Test[0].Prompt == a.Splits.Test[0].Prompt && c.Splits.Test[1].Prompt == a.Splits.Test[1].Prompt {
			t.Errorf("%s: instances 9 and 10 look identical", f.Name())
		}
	}
}
