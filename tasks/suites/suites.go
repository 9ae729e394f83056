// Package suites holds the twelve built-in, procedurally generated task
// families of the workbench, one per benchmark of the DeGAML paper, built as
// "regime worlds with visible traces" (../shared/SUITES-V2.md, the design a
// prototype of the same model size measured):
//
//   - A closed word vocabulary (Vocabulary) read by a word tokenizer: every
//     prompt is lower-case words separated by spaces.
//   - A world is a hidden table (which materials are magnetic, what a pen
//     costs, which finding suggests which disease). Worlds of one group of
//     families take one of a few shared hidden tables, the regimes, and redraw
//     one row of it: most of a world can be learned from other tasks, a small
//     part only from its own data. Nothing in a prompt names the regime.
//   - A visible trace: with probability TraceRate a prompt starts with one
//     true fact line of its world, never about what its own question asks;
//     otherwise with a neutral line of the same length. One prompt says little,
//     the unlabeled prompts of a task together reveal its regime.
//   - Answers are option words, scored as multiple choice by log-likelihood
//     (tasks.Example.WordAnswer).
//
// The six in-domain suites share what real common-sense datasets share: one
// group of regimes over the same materials and properties, the word answer,
// the fact-line trace and the same (positive) polarity, each asking in its own
// form (ARC's question, HellaSwag's continuation, BoolQ's passage + yes/no,
// PIQA's goal + solution, WinoGrande's blank); so a suite held out of
// meta-training can still profit from the other five. Each out-of-domain
// suite has its own words, question form and regimes.
//
// Worlds: instance i of a family is a task world (regime i mod Regimes, a
// deviation drawn from the family and i, tag TaskTag); Pretraining returns
// separate pretraining worlds with random tables and their own tags, so no
// task world or regime is ever seen in pretraining.
package suites

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/degaml/workbench/tasks"
)

// Difficulty levels. Only ARC has two forms (arc-easy and arc-challenge are
// the same world asked at the two levels); other families ignore the level.
const (
	Easy      = "easy"
	Challenge = "challenge"
)

// Levels lists the difficulty levels every family accepts.
func Levels() []string { return []string{Easy, Challenge} }

// Sizes are the split sizes of a generated task.
type Sizes struct{ Train, Val, Test int }

// SplitSizes are the split sizes Instance uses; set it before generating
// (it is read, unsynchronized, by every Instance call). Multiples of 4 keep
// the answer positions exactly balanced inside every split.
var SplitSizes = Sizes{Train: 64, Val: 32, Test: 64}

// Regimes is the number of shared hidden tables of each group of families.
const Regimes = 4

// TraceRate is the probability that a prompt starts with a true fact line.
const TraceRate = 0.3

// TaskTag is the world tag of every task world: a word never seen in
// pretraining (pretraining worlds are tagged p0, p1, ...), so the base model
// has no stored facts for it.
const TaskTag = "wx"

// PretrainWorlds is the number of pretraining worlds of each group.
const PretrainWorlds = 16

// item is one generated question before option placement.
type item struct {
	prompt  string   // the question, after the tag and trace line
	options []string // options[0] is the right one unless fixed
	fixed   bool     // keep option order (yes/no); answer says which
	answer  int
}

// family implements tasks.Family over a group's worlds.
type family struct {
	name, domain, desc string
	role               tasks.Role
	level              string // default level
	nopts              int    // options per item
	g                  *group
	// ask draws one item about world w. want is the answer slot the caller
	// will use (fixed-order items put the right answer there). It returns
	// the table rows the question depends on, which the trace line avoids.
	ask func(r *rand.Rand, w *world, level string, want int) (item, []int)
}

func (f *family) Name() string        { return f.name }
func (f *family) Domain() string      { return f.domain }
func (f *family) Role() tasks.Role    { return f.role }
func (f *family) Description() string { return f.desc }

// NumInstances bounds the instance index (the worlds are drawn, not
// enumerated, so any index is valid; pipeline keeps evaluation above 500).
func (f *family) NumInstances() int { return 1 << 20 }

// Group names the family's group of regimes: the six in-domain families
// share "commonsense"; each out-of-domain family is a group of its own.
func Group(f tasks.Family) string {
	if ff, ok := f.(*family); ok {
		return ff.g.name
	}
	return f.Name()
}

// Instance builds task instance i. It panics on a negative i or an unknown
// level, which are programming errors (cmd validates user input).
func (f *family) Instance(seed int64, i int, level string) *tasks.Task {
	if i < 0 || i >= f.NumInstances() {
		panic(fmt.Sprintf("suites: %s instance %d out of range [0,%d)", f.name, i, f.NumInstances()))
	}
	w := f.g.taskWorld(seed, f.name, i)
	return f.build(w, seed, uint64(i), level, fmt.Sprintf("%s#%d", f.name, i))
}

// Pretraining returns pretraining world j of f's group (0 <= j <
// PretrainWorlds) asked in f's form, and the fact lines of that world: the
// tables are random (not regimes) and tagged "pJ", disjoint from every task
// world. The families of one group share their pretraining worlds.
func Pretraining(f tasks.Family, seed int64, j int) (*tasks.Task, []string) {
	ff := f.(*family)
	w := ff.g.pretrainWorld(seed, j)
	t := ff.build(w, seed, 1<<40|uint64(j), "", fmt.Sprintf("%s@p%d", ff.name, j))
	return t, ff.g.facts(w)
}

func (f *family) build(w *world, seed int64, stream uint64, level, name string) *tasks.Task {
	if level == "" {
		level = f.level
	}
	if level != Easy && level != Challenge {
		panic(fmt.Sprintf("suites: unknown level %q (want easy or challenge)", level))
	}
	lv := uint64(0)
	if level == Challenge {
		lv = 1
	}
	if level != f.level {
		name += "@" + level
	}
	r := rand.New(rand.NewPCG(mix64(uint64(seed)^strHash(f.name)), stream<<1|lv))
	s := SplitSizes
	total := s.Train + s.Val + s.Test
	seen := map[string]bool{}
	exs := make([]tasks.Example, 0, total)
	// Answer slots come from shuffled blocks of all positions, and a slot is
	// consumed only by an accepted item: positions stay exactly balanced.
	var slots []int
	for tries := 0; len(exs) < total && tries < 200*total; tries++ {
		if len(slots) == 0 {
			slots = r.Perm(f.nopts)
		}
		it, rows := f.ask(r, w, level, slots[0])
		if len(it.options) != f.nopts {
			panic(fmt.Sprintf("suites: %s made %d options, want %d", f.name, len(it.options), f.nopts))
		}
		// A fixed quota (not a coin per draw) keeps the traced share at
		// TraceRate although deduplication rejects neutral items more often.
		k := len(exs)
		traced := int(float64(k+1)*TraceRate) > int(float64(k)*TraceRate)
		prompt := w.tag + " : " + f.g.traceLine(r, w, rows, traced) + " " + it.prompt
		ck := canonKey(prompt, it.options)
		if seen[ck] {
			continue
		}
		seen[ck] = true
		ex := tasks.Example{Prompt: prompt, Answer: it.answer, WordAnswer: true}
		if it.fixed {
			ex.Options = it.options
		} else {
			ex.Options, ex.Answer = place(r, it.options, slots[0])
		}
		slots = slots[1:]
		exs = append(exs, ex)
	}
	// Items are deduplicated over the whole instance, so cutting the list
	// yields splits that never share an example.
	cut := func(n int) []tasks.Example {
		n = min(n, len(exs))
		out := exs[:n:n]
		exs = exs[n:]
		return out
	}
	return &tasks.Task{
		Name:   name,
		Suite:  f.name,
		Domain: f.domain,
		Role:   f.role,
		Splits: tasks.Splits{Train: cut(s.Train), Val: cut(s.Val), Test: cut(s.Test)},
		Hidden: f.g.hidden(w),
	}
}

// canonKey identifies an item independently of option order, so the same
// question cannot reappear in another split with shuffled options.
func canonKey(prompt string, options []string) string {
	o := slices.Clone(options)
	slices.Sort(o)
	return prompt + "\x00" + strings.Join(o, "\x00")
}

// place puts the right option (opts[0]) at pos and shuffles the others into
// the remaining slots.
func place(r *rand.Rand, opts []string, pos int) ([]string, int) {
	rest := slices.Clone(opts[1:])
	r.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
	out := make([]string, 0, len(opts))
	out = append(out, rest[:pos]...)
	out = append(out, opts[0])
	out = append(out, rest[pos:]...)
	return out, pos
}

// --- registry ---

var all = []tasks.Family{
	arcFamily("arc-easy", Easy),
	arcFamily("arc-challenge", Challenge),
	hellaswagFamily(),
	boolqFamily(),
	piqaFamily(),
	winograndeFamily(),
	gsmFamily(),
	mathFamily(),
	logicFamily(),
	socialFamily(),
	codeFamily(),
	medicalFamily(),
}

// All returns the twelve families: the six in-domain ones, then the six
// out-of-domain ones, in the paper's order.
func All() []tasks.Family { return slices.Clone(all) }

// Names returns the family names in All's order.
func Names() []string {
	out := make([]string, len(all))
	for i, f := range all {
		out[i] = f.Name()
	}
	return out
}

// ByName returns the family called name.
func ByName(name string) (tasks.Family, error) {
	for _, f := range all {
		if f.Name() == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("suites: unknown suite %q (have %s)", name, strings.Join(Names(), ", "))
}

// --- vocabulary ---

var (
	warmOnce sync.Once
	lexMu    sync.Mutex
	lex      = map[string]bool{}
)

// words registers the fixed words of a template or list (fields holding a
// %-verb are placeholders) and returns it unchanged.
func words(s string) string {
	lexMu.Lock()
	defer lexMu.Unlock()
	for _, f := range strings.Fields(s) {
		if !strings.Contains(f, "%") {
			lex[f] = true
		}
	}
	return s
}

// list registers the words of a list.
func list(xs ...string) []string {
	words(strings.Join(xs, " "))
	return xs
}

// Vocabulary is every word a built-in prompt, option or fact line can use,
// sorted: the word tokenizer of the built-in models is built over it.
func Vocabulary() []string {
	// Templates register their words when first used: generate every family
	// once at both levels (the tests check that no generated text leaves the
	// vocabulary).
	warmOnce.Do(func() {
		for _, f := range all {
			for _, lv := range Levels() {
				f.Instance(0, 0, lv)
			}
			Pretraining(f, 0, 0)
		}
	})
	lexMu.Lock()
	defer lexMu.Unlock()
	out := make([]string, 0, len(lex))
	for w := range lex {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// Shared words of every family's frame: the world tags, the separator, the
// neutral line and the option/answer cue words of the text format
// (core/train.Format renders "… options o1 o2 answer o").
var (
	_ = words(": . ? , options answer note nothing fact " + TaskTag)
	_ = func() bool {
		for j := range PretrainWorlds {
			words(fmt.Sprintf("p%d", j))
		}
		return true
	}()
)

// --- hashing ---

func strHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
