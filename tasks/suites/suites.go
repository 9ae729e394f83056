// Package suites holds the twelve built-in, procedurally generated task
// families of the workbench, one per benchmark of the DeGAML paper. Each family
// mirrors its benchmark's form but every instance carries HIDDEN parameters (a
// synthetic world's facts, an operator's meaning, a disease table, ...) that a
// model can only get right by adapting to the instance's support set or
// unlabeled prompts; the question form itself is shared across instances, so
// it is learnable by meta-training.
//
// Determinism: Instance(seed, i, level) depends only on its arguments (and
// SplitSizes). The hidden parameters are decoded from a keyed bijection of i,
// so instances 0..NumInstances-1 of one family never share hidden parameters;
// both levels of an instance share them. Tasks are named "math-mc#17", with
// "@challenge" (or "@easy") appended when the level is not the family default.
//
// Besides the labelled support set, about half of the prompts of most
// families state one true hidden fact (a price, a worked case of the
// operator, an assert, a rule, an observed norm, a passage fact), so
// unlabeled prompts alone carry part of the hidden parameters, as the DeGAML
// generator assumes. Such clues are chosen so they never answer their own
// item or eliminate one of its options.
package suites

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/degaml/workbench/tasks"
)

// Difficulty levels.
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
// the answer letters exactly balanced inside every split. A family whose
// item space is smaller than the total (winogrande easy has 256 distinct
// items, piqa easy 288, arc easy 480) returns shorter splits, Test first.
var SplitSizes = Sizes{Train: 64, Val: 32, Test: 64}

// Byte budgets of a rendered DnD prompt (question + option lines), so that
// prompt + response fit the nano model's ~256-byte context.
const (
	MaxEasyBytes      = 200
	MaxChallengeBytes = 280
)

// item is one generated question before option placement.
type item struct {
	prompt  string
	options []string // options[0] is the right one unless fixed
	fixed   bool     // keep option order (True/False); answer says which
	answer  int
}

// world is one instance's hidden parameters plus its item generator.
type world interface {
	hidden() map[string]string
	// item draws one item; level is Easy or Challenge. want is the answer
	// slot the caller will use: fixed-order items (True/False) must put the
	// right answer there, others may ignore it (the caller places options).
	item(r *rand.Rand, level string, want int) item
}

// family implements tasks.Family over a world decoder.
type family struct {
	name, domain, desc string
	role               tasks.Role
	level              string // default level
	space              uint64 // number of distinct hidden parameter settings
	cont               bool   // options continue the prompt (HellaSwag endings)
	nopts              int    // options per item; 0 means 4
	build              func(h uint64) world
}

func (f *family) Name() string        { return f.name }
func (f *family) Domain() string      { return f.domain }
func (f *family) Role() tasks.Role    { return f.role }
func (f *family) Description() string { return f.desc }

// maxInstances caps NumInstances for families with astronomically many
// hidden settings; int must hold it on every platform.
const maxInstances = 1 << 30

func (f *family) NumInstances() int { return int(min(f.space, maxInstances)) }

// Instance builds task instance i. It panics on an out-of-range i or an
// unknown level, which are programming errors (cmd validates user input).
func (f *family) Instance(seed int64, i int, level string) *tasks.Task {
	if i < 0 || i >= f.NumInstances() {
		panic(fmt.Sprintf("suites: %s instance %d out of range [0,%d)", f.name, i, f.NumInstances()))
	}
	if level == "" {
		level = f.level
	}
	if level != Easy && level != Challenge {
		panic(fmt.Sprintf("suites: unknown level %q (want easy or challenge)", level))
	}
	key := mix64(uint64(seed) ^ strHash(f.name))
	w := f.build(permute(key, uint64(i), f.space))
	lv := uint64(0)
	if level == Challenge {
		lv = 1
	}
	r := rand.New(rand.NewPCG(key, uint64(i)<<1|lv))

	s := SplitSizes
	total := s.Train + s.Val + s.Test
	seen := map[string]bool{}
	exs := make([]tasks.Example, 0, total)
	nopts := f.nopts
	if nopts == 0 {
		nopts = 4
	}
	// Answer slots come from shuffled blocks of all positions, and a slot is
	// consumed only by an accepted item: letters stay exactly balanced even
	// though deduplication rejects some kinds of item more than others.
	var slots []int
	for tries := 0; len(exs) < total && tries < 200*total; tries++ {
		if len(slots) == 0 {
			slots = r.Perm(nopts)
		}
		it := w.item(r, level, slots[0])
		if len(it.options) != nopts {
			panic(fmt.Sprintf("suites: %s made %d options, want %d", f.name, len(it.options), nopts))
		}
		k := canonKey(it)
		if seen[k] {
			continue
		}
		seen[k] = true
		ex := tasks.Example{Prompt: it.prompt, Answer: it.answer, Continuation: f.cont}
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
	name := fmt.Sprintf("%s#%d", f.name, i)
	if level != f.level {
		name += "@" + level
	}
	return &tasks.Task{
		Name:   name,
		Suite:  f.name,
		Domain: f.domain,
		Role:   f.role,
		Splits: tasks.Splits{Train: cut(s.Train), Val: cut(s.Val), Test: cut(s.Test)},
		Hidden: w.hidden(),
	}
}

// canonKey identifies an item independently of option order, so the same
// question cannot reappear in another split with shuffled options.
func canonKey(it item) string {
	o := slices.Clone(it.options)
	slices.Sort(o)
	return it.prompt + "\x00" + strings.Join(o, "\x00")
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

// --- hidden-parameter decoding ---

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

// permute is a keyed bijection of [0,n): a balanced Feistel network on the
// smallest even bit width covering n, cycle-walked back into range. It makes
// the hidden parameters of different instances distinct by construction while
// still looking random.
func permute(key, i, n uint64) uint64 {
	w := bits.Len64(n - 1)
	w += w & 1
	w = max(w, 2)
	half := uint(w / 2)
	mask := uint64(1)<<half - 1
	x := i
	for {
		l, r := x>>half, x&mask
		for round := uint64(0); round < 4; round++ {
			l, r = r, l^(mix64(key^round*0x632be59bd9b4e019^r)&mask)
		}
		x = l<<half | r
		if x < n {
			return x
		}
	}
}

// decodePerm takes the next k-of-n ordered selection (mixed radix) from h.
func decodePerm(h uint64, n, k int) ([]int, uint64) {
	pool := make([]int, n)
	for j := range pool {
		pool[j] = j
	}
	out := make([]int, k)
	for j := range k {
		m := uint64(n - j)
		idx := int(h % m)
		h /= m
		out[j] = pool[idx]
		pool = slices.Delete(pool, idx, idx+1)
	}
	return out, h
}

// decodeCombo takes the next k-subset of [0,n) (combinatorial number
// system) from h; the subset is in increasing order.
func decodeCombo(h uint64, n, k int) ([]int, uint64) {
	c := binom(n, k)
	idx := h % c
	h /= c
	var out []int
	for e := 0; e < n && k > 0; e++ {
		b := binom(n-e-1, k-1)
		if idx < b {
			out = append(out, e)
			k--
		} else {
			idx -= b
		}
	}
	return out, h
}

func binom(n, k int) uint64 {
	if k < 0 || k > n {
		return 0
	}
	r := uint64(1)
	for j := 1; j <= k; j++ {
		r = r * uint64(n-k+j) / uint64(j)
	}
	return r
}

func pow(b, e uint64) uint64 {
	r := uint64(1)
	for range e {
		r *= b
	}
	return r
}

func perms(n, k int) uint64 {
	r := uint64(1)
	for j := range k {
		r *= uint64(n - j)
	}
	return r
}

// --- item helpers ---

// sampleWhere draws k distinct indices of [0,n) satisfying ok, or nil when
// fewer than k qualify.
func sampleWhere(r *rand.Rand, n, k int, ok func(int) bool) []int {
	var c []int
	for j := range n {
		if ok(j) {
			c = append(c, j)
		}
	}
	if len(c) < k {
		return nil
	}
	r.Shuffle(len(c), func(a, b int) { c[a], c[b] = c[b], c[a] })
	return c[:k]
}

// numOptions returns four numeric options, right answer first, forming an
// arithmetic progression with the answer at a uniformly random rank: neither
// "largest", "smallest", "middle" nor "longest" reveals it. Options stay >= lo;
// the step shrinks near lo so that the rank can stay uniform.
func numOptions(r *rand.Rand, ans, step, lo int) []string {
	step = max(1, min(step, (ans-lo)/3))
	var ranks []int
	for p := range 4 {
		if ans-step*p >= lo {
			ranks = append(ranks, p)
		}
	}
	p := ranks[r.IntN(len(ranks))]
	out := []string{fmt.Sprint(ans)}
	for j := range 4 {
		if j != p {
			out = append(out, fmt.Sprint(ans+step*(j-p)))
		}
	}
	return out
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// listAnd renders "a, b and c".
func listAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func names(vocab []string, idx []int) []string {
	out := make([]string, len(idx))
	for j, i := range idx {
		out[j] = vocab[i]
	}
	return out
}
