package suites

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// group is a set of families asking about the same kind of world: a table
// whose rows (keys: properties, goods, findings, ...) each hold values
// (materials, prices, diseases, ...). Families of one group share its regimes
// and its pretraining worlds.
type group struct {
	name string
	keys []string // row names
	vals []string // value names
	// holders > 0: each row holds exactly that many values (a set, e.g. the
	// materials that are magnetic); 0: each row maps to one value.
	holders int
	perm    bool // function rows take distinct values
	noFixed bool // with keys == vals: no row maps to itself
	// fact renders the fact line of (row, value); every fact line of a group
	// has the same number of words (the neutral line matches it).
	fact func(key, val string) string

	mu      sync.Mutex
	regimes map[int64][][][]int // seed → regime tables
}

// world is one hidden table with its tag.
type world struct {
	tag    string
	regime int     // -1 for pretraining worlds
	rows   [][]int // rows[k]: the values row k holds, increasing
}

func (w *world) holds(k, v int) bool { return slices.Contains(w.rows[k], v) }

// holders returns the keys whose row holds v.
func (w *world) keysOf(v int) []int {
	var out []int
	for k := range w.rows {
		if w.holds(k, v) {
			out = append(out, k)
		}
	}
	return out
}

func (g *group) rng(seed int64, what string, i uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(uint64(seed)^strHash(g.name+"/"+what)), i))
}

// randomTable draws a table uniformly among the valid ones.
func (g *group) randomTable(r *rand.Rand) [][]int {
	rows := make([][]int, len(g.keys))
	for {
		used := map[int]bool{}
		ok := true
		for k := range rows {
			rows[k] = g.randomRow(r, k)
			if g.perm {
				if used[rows[k][0]] {
					ok = false
				}
				used[rows[k][0]] = true
			}
		}
		if ok {
			return rows
		}
	}
}

func (g *group) randomRow(r *rand.Rand, k int) []int {
	for {
		var row []int
		if g.holders > 0 {
			row = r.Perm(len(g.vals))[:g.holders]
			slices.Sort(row)
		} else {
			row = []int{r.IntN(len(g.vals))}
		}
		if g.noFixed && slices.Contains(row, k) {
			continue
		}
		return row
	}
}

// regimeTables returns the group's Regimes shared tables for a seed, all
// different from each other.
func (g *group) regimeTables(seed int64) [][][]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.regimes == nil {
		g.regimes = map[int64][][][]int{}
	}
	if t, ok := g.regimes[seed]; ok {
		return t
	}
	r := g.rng(seed, "regimes", 0)
	var out [][][]int
	for len(out) < Regimes {
		t := g.randomTable(r)
		if !slices.ContainsFunc(out, func(o [][]int) bool { return tableKey(o) == tableKey(t) }) {
			out = append(out, t)
		}
	}
	g.regimes[seed] = out
	return out
}

func tableKey(t [][]int) string { return fmt.Sprint(t) }

// taskWorld is instance i of family fam: regime i mod Regimes with one row
// redrawn (the world's own part), tagged TaskTag.
func (g *group) taskWorld(seed int64, fam string, i int) *world {
	reg := i % Regimes
	base := g.regimeTables(seed)[reg]
	rows := make([][]int, len(base))
	for k := range base {
		rows[k] = slices.Clone(base[k])
	}
	r := rand.New(rand.NewPCG(mix64(uint64(seed)^strHash(fam+"/world")), uint64(i)))
	k := r.IntN(len(rows))
	for {
		var next [][]int
		if g.perm {
			// Swap row k's value with another row's (or an unused value).
			next = cloneRows(rows)
			v := r.IntN(len(g.vals))
			for o := range next {
				if next[o][0] == v {
					next[o][0] = next[k][0]
				}
			}
			next[k][0] = v
		} else {
			next = cloneRows(rows)
			next[k] = g.randomRow(r, k)
		}
		if tableKey(next) != tableKey(rows) && g.valid(next) {
			rows = next
			break
		}
	}
	return &world{tag: TaskTag, regime: reg, rows: rows}
}

// pretrainWorld is pretraining world j: a random table that is none of the
// regimes, tag "pJ".
func (g *group) pretrainWorld(seed int64, j int) *world {
	r := g.rng(seed, "pretrain", uint64(j))
	regs := g.regimeTables(seed)
	for {
		rows := g.randomTable(r)
		if !slices.ContainsFunc(regs, func(t [][]int) bool { return tableKey(t) == tableKey(rows) }) {
			return &world{tag: fmt.Sprintf("p%d", j), regime: -1, rows: rows}
		}
	}
}

func (g *group) valid(rows [][]int) bool {
	used := map[int]bool{}
	for k, row := range rows {
		if g.noFixed && slices.Contains(row, k) {
			return false
		}
		if g.perm {
			if used[row[0]] {
				return false
			}
			used[row[0]] = true
		}
	}
	return true
}

func cloneRows(rows [][]int) [][]int {
	out := make([][]int, len(rows))
	for k := range rows {
		out[k] = slices.Clone(rows[k])
	}
	return out
}

// facts lists every fact line of w.
func (g *group) facts(w *world) []string {
	var out []string
	for k, row := range w.rows {
		for _, v := range row {
			out = append(out, g.fact(g.keys[k], g.vals[v]))
		}
	}
	return out
}

// traceLine is, when traced, one true fact line of w about a row outside
// avoid (the rows the item's question depends on, so a trace never answers
// its own item); otherwise the neutral line of the same length.
func (g *group) traceLine(r *rand.Rand, w *world, avoid []int, traced bool) string {
	if traced {
		var ks []int
		for k := range w.rows {
			if !slices.Contains(avoid, k) {
				ks = append(ks, k)
			}
		}
		if len(ks) > 0 {
			k := pick(r, ks)
			return g.fact(g.keys[k], g.vals[pick(r, w.rows[k])])
		}
	}
	return g.neutral()
}

// neutral is "note nothing … ." as long as a fact line.
func (g *group) neutral() string {
	n := len(strings.Fields(g.fact(g.keys[0], g.vals[0])))
	return "note" + strings.Repeat(" nothing", n-2) + " ."
}

// hidden describes w for `tasks show` and the tests' solvers: each row's
// values, the regime and the tag.
func (g *group) hidden(w *world) map[string]string {
	out := map[string]string{"tag": w.tag}
	if w.regime >= 0 {
		out["regime"] = strconv.Itoa(w.regime)
	} else {
		out["regime"] = "none (pretraining world)"
	}
	for k, row := range w.rows {
		vs := make([]string, len(row))
		for j, v := range row {
			vs[j] = g.vals[v]
		}
		out[g.keys[k]] = strings.Join(vs, " ")
	}
	return out
}

// others draws n distinct values of [0,m) satisfying ok, nil if too few.
func others(r *rand.Rand, m, n int, ok func(int) bool) []int {
	var c []int
	for j := range m {
		if ok(j) {
			c = append(c, j)
		}
	}
	if len(c) < n {
		return nil
	}
	r.Shuffle(len(c), func(a, b int) { c[a], c[b] = c[b], c[a] })
	return c[:n]
}

func namesOf(vocab []string, idx []int) []string {
	out := make([]string, len(idx))
	for j, i := range idx {
		out[j] = vocab[i]
	}
	return out
}
