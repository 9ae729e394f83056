package suites

import (
	"fmt"
	"math/rand/v2"
	"slices"
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
	// Half the problems state one price: unlabeled prompts then carry part
	// of the hidden price list.
	clue := ""
	if r.IntN(2) == 0 {
		k := g[r.IntN(2)]
		art := "A"
		if strings.IndexByte("aeiou", gsmGoods[k][0]) >= 0 {
			art = "An"
		}
		clue = fmt.Sprintf("%s %s costs %d coins. ", art, gsmGoods[k], w.price[k])
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
	return item{prompt: clue + q, options: numOptions(r, ans, 1+r.IntN(5), 0)}
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
	if r.IntN(2) == 0 {
		// A worked case in the prompt: unlabeled prompts then constrain the
		// hidden operator.
		c, d := 1+r.IntN(9), 1+r.IntN(9)
		return item{prompt: fmt.Sprintf("If %d # %d = %d, what is %d # %d?", c, d, w.op(c, d), a, b), options: numOptions(r, w.op(a, b), 1+r.IntN(4), 0)}
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
	// Half the items state one true rule: unlabeled prompts then reveal part
	// of the chains. The rule never leads from (or, for a negated premise,
	// to) the premise's category, so the prompt alone entails no option.
	clue := ""
	for r.IntN(2) == 0 {
		c, p := r.IntN(2), r.IntN(3)
		a, b := at(c, p), at(c, p+1)
		if (form < 2 && a == x) || (form == 2 && b == x) {
			continue
		}
		clue = fmt.Sprintf("Every %s is a %s. ", logicCats[a], logicCats[b])
		break
	}
	opts := []string{e + verb + logicCats[right]}
	for _, z := range wrong {
		opts = append(opts, e+verb+logicCats[z])
	}
	return item{prompt: clue + premise + " Which follows?", options: opts}
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
	abc := sampleWhere(r, len(people), 3, func(int) bool { return true })
	a, b, c := people[abc[0]], people[abc[1]], people[abc[2]]
	s := r.IntN(len(socSits))
	// Half the items open with an observed norm for another situation:
	// unlabeled prompts then reveal part of the culture.
	// The clue's situation and reaction never appear among the options, so
	// it cannot be used to eliminate one.
	clue, o := "", -1
	if r.IntN(2) == 0 {
		o = (s + 1 + r.IntN(len(socSits)-1)) % len(socSits)
		clue = fmt.Sprintf("%s %s, and %s %s. ", c, fmt.Sprintf(socSits[o], b), b, socReactions[w.norm[o]].past)
	}
	if level == Challenge && r.IntN(2) == 0 {
		wrong := sampleWhere(r, len(socSits), 3, func(x int) bool { return x != s && x != o })
		opts := []string{fmt.Sprintf(socSits[s], b)}
		for _, x := range wrong {
			opts = append(opts, fmt.Sprintf(socSits[x], b))
		}
		return item{prompt: fmt.Sprintf("%s%s just %s. What did %s do?", clue, b, socReactions[w.norm[s]].past, a), options: opts}
	}
	wrong := sampleWhere(r, len(socReactions), 3, func(x int) bool { return x != w.norm[s] && (o < 0 || x != w.norm[o]) })
	opts := []string{socReactions[w.norm[s]].base}
	for _, x := range wrong {
		opts = append(opts, socReactions[x].base)
	}
	return item{prompt: fmt.Sprintf("%s%s %s. What will %s do?", clue, a, fmt.Sprintf(socSits[s], b), b), options: opts}
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
		// Half the programs open with an assert about one built-in: unlabeled
		// prompts then reveal part of the hidden semantics.
		if r.IntN(2) == 0 {
			k, arg := r.IntN(len(codeFnNames)), 1+r.IntN(6)
			prog = fmt.Sprintf("assert %s(%d) == %d\n", codeFnNames[k], arg, codeFns[w.fn[k]].f(arg)) + prog
		}
		return item{prompt: prog + "\nWhat does it print?", options: numOptions(r, out, 1+r.IntN(3), 0)}
	}
}

// ------------------------------------------------------------ medical ----
// A per-instance disease table: each of eight diseases shows three of twelve
// findings (hidden). Easy lists all or two of a disease's findings;
// challenge adds unrelated findings, so the best match must be found by
// overlap. Findings are listed in a fixed order, so an item cannot recur as
// a mere reordering.

var medDiseases = []string{"ardosis", "belitis", "cormia", "delvax", "emphyra", "fultex", "gorvia", "hestal"}
var medFindings = []string{"fever", "rash", "cough", "pain", "fatigue", "itch", "swelling", "dizziness", "nausea", "chills", "cramps", "thirst"}

func medicalFamily() *family {
	nd, nf := len(medDiseases), len(medFindings)
	return &family{
		name: "medical", domain: "medical", role: tasks.OutOfDomain, level: Easy,
		desc:  "JAMA-style findings -> diagnosis (4 options); hidden: the instance's disease-finding table",
		space: pow(binom(nf, 3), uint64(nd)),
		build: func(h uint64) world {
			w := &medWorld{}
			for d := range nd {
				var c []int
				c, h = decodeCombo(h, nf, 3)
				for _, f := range c {
					w.has[d][f] = true
				}
			}
			return w
		},
	}
}

type medWorld struct{ has [8][12]bool }

func (w *medWorld) hidden() map[string]string {
	out := map[string]string{}
	for d, name := range medDiseases {
		var fs []string
		for f, fname := range medFindings {
			if w.has[d][f] {
				fs = append(fs, fname)
			}
		}
		out[name] = strings.Join(fs, ", ")
	}
	return out
}

func (w *medWorld) item(r *rand.Rand, level string, want int) item {
	nd, nf := len(medDiseases), len(medFindings)
	for {
		d := r.IntN(nd)
		keep := 2 + r.IntN(2)
		shown := sampleWhere(r, nf, keep, func(f int) bool { return w.has[d][f] })
		if level == Challenge {
			noise := sampleWhere(r, nf, 1+r.IntN(2), func(f int) bool { return !w.has[d][f] })
			shown = append(shown, noise...)
		}
		slices.Sort(shown)
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
		wrong := sampleWhere(r, nd, 3, func(x int) bool { return x != d && overlap(x) < best })
		if wrong == nil {
			continue
		}
		return item{
			prompt:  "A patient has " + listAnd(names(medFindings, shown)) + ". Which diagnosis fits best?",
			options: names(medDiseases, append([]int{d}, wrong...)),
		}
	}
}
