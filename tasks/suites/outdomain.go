package suites

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/degaml/workbench/tasks"
)

// ------------------------------------------------------------- GSM-MC ----
// Multi-step shopping problems; in instance k every good has its own price
// (hidden), so the support set is the price list in disguise.

var gsmGoods = []string{"apple", "pear", "egg", "bun", "pie", "jar"}

func gsmFamily() *family {
	return &family{
		name: "gsm-mc", domain: "math", role: tasks.OutOfDomain, level: Easy,
		desc:  "GSM8K-style multi-step word problems with 4 numeric options; hidden: the shop's prices",
		space: pow(8, 6),
		build: func(h uint64) world {
			w := &gsmWorld{}
			for g := range w.price {
				w.price[g] = 2 + int(h%8)
				h /= 8
			}
			return w
		},
	}
}

type gsmWorld struct{ price [6]int }

func (w *gsmWorld) hidden() map[string]string {
	out := map[string]string{}
	for g, name := range gsmGoods {
		out[name] = fmt.Sprintf("%d coins", w.price[g])
	}
	return out
}

func (w *gsmWorld) item(r *rand.Rand, level string, want int) item {
	name := pick(r, people)
	g := sampleWhere(r, len(gsmGoods), 3, func(int) bool { return true })
	a, b, c := 2+r.IntN(4), 2+r.IntN(4), 2+r.IntN(4)
	p1, p2, p3 := w.price[g[0]], w.price[g[1]], w.price[g[2]]
	n1, n2, n3 := gsmGoods[g[0]], gsmGoods[g[1]], gsmGoods[g[2]]
	form := 0
	if level == Challenge {
		form = 1 + r.IntN(3)
	}
	var q string
	var ans int
	switch form {
	case 0:
		q = fmt.Sprintf("%s buys %d %ss and %d %ss. How many coins in all?", name, a, n1, b, n2)
		ans = a*p1 + b*p2
	case 1:
		q = fmt.Sprintf("%s buys %d %ss, %d %ss and %d %ss. How many coins in all?", name, a, n1, b, n2, c, n3)
		ans = a*p1 + b*p2 + c*p3
	case 2:
		cost := a*p1 + b*p2
		pay := (cost/10 + 1 + r.IntN(2)) * 10
		q = fmt.Sprintf("%s buys %d %ss and %d %ss and pays with %d coins. How much change?", name, a, n1, b, n2, pay)
		ans = pay - cost
	case 3:
		q = fmt.Sprintf("%s buys %d %ss and twice as many %ss. How many coins in all?", name, a, n1, n2)
		ans = a*p1 + 2*a*p2
	}
	return item{prompt: q, options: numOptions(r, ans, 1+r.IntN(5), 0)}
}

// ------------------------------------------------------------ MATH-MC ----
// A toy algebra: in instance k, a # b = p*a + q*b + r (hidden p, q, r).
// Challenge nests the operator or asks to invert it.

func mathFamily() *family {
	return &family{
		name: "math-mc", domain: "math", role: tasks.OutOfDomain, level: Easy,
		desc:  "MATH-style 4-option algebra with a custom operator #; hidden: the operator's definition",
		space: 9 * 9 * 20,
		build: func(h uint64) world {
			return &mathWorld{p: 1 + int(h%9), q: 1 + int(h/9%9), r: int(h / 81)}
		},
	}
}

type mathWorld struct{ p, q, r int }

func (w *mathWorld) op(a, b int) int { return w.p*a + w.q*b + w.r }

func (w *mathWorld) hidden() map[string]string {
	return map[string]string{"operator": fmt.Sprintf("a # b = %d*a + %d*b + %d", w.p, w.q, w.r)}
}

func (w *mathWorld) item(r *rand.Rand, level string, want int) item {
	a, b, c := 1+r.IntN(9), 1+r.IntN(9), 1+r.IntN(5)
	form := 0
	if level == Challenge {
		form = 1 + r.IntN(3)
	}
	switch form {
	case 1:
		a, b = 1+r.IntN(5), 1+r.IntN(5)
		return item{prompt: fmt.Sprintf("What is (%d # %d) # %d?", a, b, c), options: numOptions(r, w.op(w.op(a, b), c), 1+r.IntN(4), 0)}
	case 2:
		b = 1 + r.IntN(5)
		return item{prompt: fmt.Sprintf("What is %d # (%d # %d)?", a, b, c), options: numOptions(r, w.op(a, w.op(b, c)), 1+r.IntN(4), 0)}
	case 3:
		// x from 4 up keeps x-3 >= 1, so the answer's rank is uniform.
		a = 4 + r.IntN(9)
		return item{prompt: fmt.Sprintf("If x # %d = %d, what is x?", b, w.op(a, b)), options: numOptions(r, a, 1, 1)}
	}
	return item{prompt: fmt.Sprintf("What is %d # %d?", a, b), options: numOptions(r, w.op(a, b), 1+r.IntN(4), 0)}
}

// -------------------------------------------------------------- logic ----
// Eight nonsense categories form two hidden implication chains of four
// ("every wug is a dax"). The premise names one category; exactly one option
// is entailed. Challenge needs two hops or the contrapositive.

var logicCats = []string{"wug", "dax", "fep", "blick", "toma", "zup", "kiki", "lorp"}
var logicNames = []string{"Rex", "Max", "Pip", "Tad", "Sol", "Kit"}

func logicFamily() *family {
	return &family{
		name: "logic", domain: "logic", role: tasks.OutOfDomain, level: Easy,
		desc:  "DivLogicEval-style premise + which conclusion follows; hidden: two implication chains (x -> y: every x is a y)",
		space: perms(8, 8),
		build: func(h uint64) world {
			order, _ := decodePerm(h, 8, 8)
			w := &logicWorld{order: order}
			for i, c := range order {
				w.chain[c], w.pos[c] = i/4, i%4
			}
			return w
		},
	}
}

type logicWorld struct {
	order      []int
	chain, pos [8]int
}

// follows reports whether "every x is a y" holds transitively (x != y).
func (w *logicWorld) follows(x, y int) bool { return w.chain[x] == w.chain[y] && w.pos[y] > w.pos[x] }

func (w *logicWorld) hidden() map[string]string {
	c := names(logicCats, w.order)
	return map[string]string{"chains": strings.Join(c[:4], " -> ") + "; " + strings.Join(c[4:], " -> ")}
}

func (w *logicWorld) item(r *rand.Rand, level string, want int) item {
	e := pick(r, logicNames)
	form := 0
	if level == Challenge {
		form = 1 + r.IntN(2)
	}
	at := func(chain, pos int) int { return w.order[chain*4+pos] }
	ch := r.IntN(2)
	var x, right int
	var premise, verb string
	var wrong []int
	switch form {
	case 0: // one hop
		x = at(ch, r.IntN(3))
		right = at(ch, w.pos[x]+1)
	case 1: // two hops or more
		x = at(ch, r.IntN(2))
		right = at(ch, w.pos[x]+2+r.IntN(2-w.pos[x]))
	case 2: // contrapositive: not y entails not x for every x before y
		x = at(ch, 1+r.IntN(3))
		right = at(ch, r.IntN(w.pos[x]))
	}
	if form < 2 {
		premise, verb = fmt.Sprintf("%s is a %s.", e, logicCats[x]), " is a "
		wrong = sampleWhere(r, 8, 3, func(z int) bool { return z != x && !w.follows(x, z) })
	} else {
		premise, verb = fmt.Sprintf("%s is not a %s.", e, logicCats[x]), " is not a "
		wrong = sampleWhere(r, 8, 3, func(z int) bool { return z != x && !w.follows(z, x) })
	}
	opts := []string{e + verb + logicCats[right]}
	for _, z := range wrong {
		opts = append(opts, e+verb+logicCats[z])
	}
	return item{prompt: premise + " Which follows?", options: opts}
}

// ------------------------------------------------------------- social ----
// Per-instance social norms: in culture k each of eight situations calls for
// its own reaction out of ten (hidden, one-to-one). Easy asks for the
// reaction; challenge also asks backwards from a reaction to its cause.

var socSits = []string{ // "%s" is the person the act is aimed at
	"gave %s a gift", "greeted %s at the door", "thanked %s for the help", "said sorry to %s",
	"lost a game to %s", "cooked dinner for %s", "told %s good news", "said goodbye to %s",
}

type socReaction struct{ base, past string }

var socReactions = []socReaction{
	{"bow", "bowed"}, {"clap", "clapped"}, {"sing", "sang"}, {"hug", "hugged"}, {"wave", "waved"},
	{"laugh", "laughed"}, {"nod", "nodded"}, {"dance", "danced"}, {"whistle", "whistled"}, {"kneel", "knelt"},
}

func socialFamily() *family {
	return &family{
		name: "social", domain: "social", role: tasks.OutOfDomain, level: Easy,
		desc:  "SocialIQA-style situations and reactions; hidden: the culture's norm for each situation",
		space: perms(10, 8),
		build: func(h uint64) world {
			norm, _ := decodePerm(h, 10, 8)
			return &socWorld{norm: norm}
		},
	}
}

type socWorld struct{ norm []int }

func (w *socWorld) hidden() map[string]string {
	out := map[string]string{}
	for s, sit := range socSits {
		out[fmt.Sprintf(sit, "someone")] = socReactions[w.norm[s]].base
	}
	return out
}

func (w *socWorld) item(r *rand.Rand, level string, want int) item {
	ab := sampleWhere(r, len(people), 2, func(int) bool { return true })
	a, b := people[ab[0]], people[ab[1]]
	s := r.IntN(len(socSits))
	if level == Challenge && r.IntN(2) == 0 {
		wrong := sampleWhere(r, len(socSits), 3, func(x int) bool { return x != s })
		opts := []string{fmt.Sprintf(socSits[s], b)}
		for _, x := range wrong {
			opts = append(opts, fmt.Sprintf(socSits[x], b))
		}
		return item{prompt: fmt.Sprintf("%s just %s. What did %s do?", b, socReactions[w.norm[s]].past, a), options: opts}
	}
	wrong := sampleWhere(r, len(socReactions), 3, func(x int) bool { return x != w.norm[s] })
	opts := []string{socReactions[w.norm[s]].base}
	for _, x := range wrong {
		opts = append(opts, socReactions[x].base)
	}
	return item{prompt: fmt.Sprintf("%s %s. What will %s do?", a, fmt.Sprintf(socSits[s], b), b), options: opts}
}

// --------------------------------------------------------------- code ----
// A tiny Python-like language whose five built-in functions have
// per-instance meanings (hidden): in instance k, zap(x) may be x*3.

var codeFnNames = []string{"zap", "bop", "tik", "mun", "gez"}

type codeFn struct {
	text string
	f    func(int) int
}

var codeFns = []codeFn{
	{"x+1", func(x int) int { return x + 1 }}, {"x+2", func(x int) int { return x + 2 }},
	{"x+3", func(x int) int { return x + 3 }}, {"x+4", func(x int) int { return x + 4 }},
	{"x-1", func(x int) int { return x - 1 }}, {"x-2", func(x int) int { return x - 2 }},
	{"x*2", func(x int) int { return x * 2 }}, {"x*3", func(x int) int { return x * 3 }},
	{"x//2", func(x int) int { return x / 2 }}, {"x*x", func(x int) int { return x * x }},
}

func codeFamily() *family {
	return &family{
		name: "code", domain: "code", role: tasks.OutOfDomain, level: Easy,
		desc:  "CodeMMLU-style: what does a tiny program print (4 options); hidden: what each built-in function does",
		space: perms(len(codeFns), len(codeFnNames)),
		build: func(h uint64) world {
			fn, _ := decodePerm(h, len(codeFns), len(codeFnNames))
			return &codeWorld{fn: fn}
		},
	}
}

type codeWorld struct{ fn []int }

func (w *codeWorld) hidden() map[string]string {
	out := map[string]string{}
	for i, n := range codeFnNames {
		out[n+"(x)"] = codeFns[w.fn[i]].text
	}
	return out
}

func (w *codeWorld) item(r *rand.Rand, level string, want int) item {
	for {
		x0 := 3 + r.IntN(7)
		fs := sampleWhere(r, len(codeFnNames), 3, func(int) bool { return true })
		// call applies a named function, tracking that values stay small
		// and non-negative (so floor semantics never matter).
		ok := true
		call := func(i, x int) int {
			y := codeFns[w.fn[i]].f(x)
			if y < 0 || y > 200 {
				ok = false
			}
			return y
		}
		f, g, h := codeFnNames[fs[0]], codeFnNames[fs[1]], codeFnNames[fs[2]]
		var prog string
		var out int
		form := r.IntN(2)
		if level == Challenge {
			form = 2 + r.IntN(3)
		}
		switch form {
		case 0:
			prog = fmt.Sprintf("x = %d\nx = %s(x)\nx = %s(x)\nprint(x)", x0, f, g)
			out = call(fs[1], call(fs[0], x0))
		case 1:
			prog = fmt.Sprintf("x = %d\nprint(%s(%s(x)))", x0, f, g)
			out = call(fs[0], call(fs[1], x0))
		case 2:
			n := 2 + r.IntN(2)
			prog = fmt.Sprintf("x = %d\nfor i in range(%d):\n    x = %s(x)\nx = %s(x)\nprint(x)", x0, n, f, g)
			out = x0
			for range n {
				out = call(fs[0], out)
			}
			out = call(fs[1], out)
		case 3:
			prog = fmt.Sprintf("x = %d\ny = %s(x) + %s(x)\nprint(y)", x0, f, g)
			out = call(fs[0], x0) + call(fs[1], x0)
		case 4:
			prog = fmt.Sprintf("x = %d\nprint(%s(%s(%s(x))))", x0, f, g, h)
			out = call(fs[0], call(fs[1], call(fs[2], x0)))
		}
		if !ok {
			continue
		}
		return item{prompt: prog + "\nWhat does it print?", options: numOptions(r, out, 1+r.IntN(3), 0)}
	}
}

// ------------------------------------------------------------ medical ----
// A per-instance disease table: each of six diseases shows three of ten
// findings (hidden). Easy lists a disease's findings exactly; challenge
// drops one and adds noise, so the best match must be found by overlap.

var medDiseases = []string{"ardosis", "belitis", "cormia", "delvax", "emphyra", "fultex"}
var medFindings = []string{"fever", "rash", "cough", "pain", "fatigue", "itch", "swelling", "dizziness", "nausea", "chills"}

func medicalFamily() *family {
	return &family{
		name: "medical", domain: "medical", role: tasks.OutOfDomain, level: Easy,
		desc:  "JAMA-style findings -> diagnosis (4 options); hidden: the instance's disease-finding table",
		space: pow(binom(10, 3), 6),
		build: func(h uint64) world {
			w := &medWorld{}
			for d := range medDiseases {
				var c []int
				c, h = decodeCombo(h, 10, 3)
				for _, f := range c {
					w.has[d][f] = true
				}
			}
			return w
		},
	}
}

type medWorld struct{ has [6][10]bool }

func (w *medWorld) hidden() map[string]string {
	out := map[string]string{}
	for d, name := range medDiseases {
		out[name] = strings.Join(w.findings(d), ", ")
	}
	return out
}

func (w *medWorld) findings(d int) []string {
	var fs []string
	for f, name := range medFindings {
		if w.has[d][f] {
			fs = append(fs, name)
		}
	}
	return fs
}

func (w *medWorld) item(r *rand.Rand, level string, want int) item {
	for {
		d := r.IntN(6)
		var shown []int
		own := sampleWhere(r, 10, 3, func(f int) bool { return w.has[d][f] })
		if level == Challenge {
			keep, extra := 3, 1
			if r.IntN(2) == 0 {
				keep, extra = 2, 1+r.IntN(2)
			}
			noise := sampleWhere(r, 10, extra, func(f int) bool { return !w.has[d][f] })
			shown = append(own[:keep], noise...)
			r.Shuffle(len(shown), func(a, b int) { shown[a], shown[b] = shown[b], shown[a] })
		} else {
			shown = own
		}
		overlap := func(x int) int {
			n := 0
			for _, f := range shown {
				if w.has[x][f] {
					n++
				}
			}
			return n
		}
		// The right diagnosis must be the strict best match among options.
		best := overlap(d)
		wrong := sampleWhere(r, 6, 3, func(x int) bool { return x != d && overlap(x) < best })
		if wrong == nil {
			continue
		}
		return item{
			prompt:  "A patient has " + listAnd(names(medFindings, shown)) + ". Which diagnosis fits best?",
			options: names(medDiseases, append([]int{d}, wrong...)),
		}
	}
}
