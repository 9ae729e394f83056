package suites

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/degaml/workbench/tasks"
)

// ---------------------------------------------------------------- ARC ----
// A synthetic world of eight materials and six properties; in world k each
// property holds for exactly three materials (hidden). Easy asks which
// material has a property; challenge negates or combines two properties.

var arcMaterials = []string{"iron", "wax", "salt", "glass", "clay", "tin", "wool", "cork"}

type arcProp struct{ key, pos, neg string }

var arcProps = []arcProp{
	{"magnetic", "is magnetic", "is not magnetic"},
	{"floats", "floats on water", "does not float on water"},
	{"melts", "melts in the sun", "does not melt in the sun"},
	{"conducts", "conducts heat", "does not conduct heat"},
	{"dissolves", "dissolves in water", "does not dissolve in water"},
	{"glows", "glows in the dark", "does not glow in the dark"},
}

func arcFamily(name, level string) *family {
	desc := "ARC-style 4-option science questions about a synthetic world; hidden: which materials have which properties"
	return &family{
		name: name, domain: "science", role: tasks.InDomain, level: level, desc: desc,
		space: pow(binom(8, 3), 6),
		build: func(h uint64) world {
			w := &arcWorld{}
			for p := range arcProps {
				var c []int
				c, h = decodeCombo(h, len(arcMaterials), 3)
				for _, m := range c {
					w.has[p][m] = true
				}
			}
			return w
		},
	}
}

type arcWorld struct{ has [6][8]bool }

func (w *arcWorld) hidden() map[string]string {
	out := map[string]string{}
	for p, pr := range arcProps {
		var ms []string
		for m, name := range arcMaterials {
			if w.has[p][m] {
				ms = append(ms, name)
			}
		}
		out[pr.key] = strings.Join(ms, ", ")
	}
	return out
}

func (w *arcWorld) item(r *rand.Rand, level string, want int) item {
	for {
		p, q := r.IntN(6), r.IntN(6)
		var phrase string
		var ok func(m int) bool
		form := 0
		if level == Challenge {
			form = 1 + r.IntN(3)
		}
		switch form {
		case 0:
			phrase, ok = arcProps[p].pos, func(m int) bool { return w.has[p][m] }
		case 1:
			phrase, ok = arcProps[p].neg, func(m int) bool { return !w.has[p][m] }
		case 2:
			if p == q {
				continue
			}
			phrase = arcProps[p].pos + " and " + arcProps[q].pos
			ok = func(m int) bool { return w.has[p][m] && w.has[q][m] }
		case 3:
			if p == q {
				continue
			}
			phrase = arcProps[p].pos + " but " + arcProps[q].neg
			ok = func(m int) bool { return w.has[p][m] && !w.has[q][m] }
		}
		right := sampleWhere(r, 8, 1, ok)
		wrong := sampleWhere(r, 8, 3, func(m int) bool { return !ok(m) })
		if right == nil || wrong == nil {
			continue
		}
		return item{
			prompt:  "Which material " + phrase + "?",
			options: names(arcMaterials, append(right, wrong...)),
		}
	}
}

// ---------------------------------------------------------- HellaSwag ----
// Everyone in instance k follows the same hidden routine: eight actions out
// of twelve in a fixed order. The context shows one action; the right ending
// is the next one (easy), the one two steps later or the one before
// (challenge).

var hsVerbs = []string{"clapped", "jumped", "sang", "waved", "sat down", "ran", "spun", "nodded", "bowed", "laughed", "knelt", "whistled"}
var hsNames = []string{"Ann", "Dee", "Fay", "Ivy", "Kim", "Liz", "May", "Zoe"}
var hsPlaces = []string{"fair", "park", "beach", "party", "farm", "lake"}

// Suffixes of the context; the solver in the tests keys on them.
const (
	hsNext   = "Next, she"
	hsTwo    = "Two steps later, she"
	hsBefore = "Just before that, she"
)

func hellaswagFamily() *family {
	return &family{
		name: "hellaswag", domain: "commonsense", role: tasks.InDomain, level: Easy, cont: true,
		desc:  "HellaSwag-style context + 4 endings; hidden: the order of the instance's daily routine",
		space: perms(len(hsVerbs), 8),
		build: func(h uint64) world {
			seq, _ := decodePerm(h, len(hsVerbs), 8)
			return &hsWorld{seq: seq}
		},
	}
}

type hsWorld struct{ seq []int }

func (w *hsWorld) hidden() map[string]string {
	return map[string]string{"routine": strings.Join(names(hsVerbs, w.seq), " > ")}
}

func (w *hsWorld) item(r *rand.Rand, level string, want int) item {
	var j, ans int
	suffix := hsNext
	switch form := 0; {
	case level == Challenge:
		form = r.IntN(2)
		if form == 0 {
			j = r.IntN(6)
			ans, suffix = j+2, hsTwo
		} else {
			j = 1 + r.IntN(7)
			ans, suffix = j-1, hsBefore
		}
	default:
		j = r.IntN(7)
		ans = j + 1
	}
	// Distractors come from the routine itself, so only the order tells;
	// the context's own action is left out so "not the action just named"
	// is no shortcut.
	wrong := sampleWhere(r, 8, 3, func(x int) bool { return x != ans && x != j })
	opts := []string{hsVerbs[w.seq[ans]] + "."}
	for _, x := range wrong {
		opts = append(opts, hsVerbs[w.seq[x]]+".")
	}
	return item{
		prompt:  fmt.Sprintf("At the %s, %s %s. %s", pick(r, hsPlaces), pick(r, hsNames), hsVerbs[w.seq[j]], suffix),
		options: opts,
	}
}

// -------------------------------------------------------------- BoolQ ----
// A passage says who lives in which colored house; in instance k each house
// color comes with its own pet and trade (hidden), and the question asks
// about a person's pet or trade.

var bqHouses = []string{"red", "blue", "green", "white", "gray", "black"}
var bqPets = []string{"cat", "dog", "owl", "goat", "hen", "fish"}
var bqJobs = []string{"baker", "smith", "nurse", "tailor", "farmer", "cook"}
var people = []string{"Ann", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal"}

func boolqFamily() *family {
	return &family{
		name: "boolq", domain: "reading", role: tasks.InDomain, level: Easy, nopts: 2,
		desc:  "BoolQ-style passage + True/False; hidden: the pet and trade that go with each house color",
		space: perms(6, 6) * perms(6, 6),
		build: func(h uint64) world {
			w := &bqWorld{}
			w.pet, h = decodePerm(h, 6, 6)
			w.job, _ = decodePerm(h, 6, 6)
			return w
		},
	}
}

type bqWorld struct{ pet, job []int }

func (w *bqWorld) hidden() map[string]string {
	out := map[string]string{}
	for i, c := range bqHouses {
		out[c+" house"] = "pet=" + bqPets[w.pet[i]] + ", job=" + bqJobs[w.job[i]]
	}
	return out
}

func (w *bqWorld) item(r *rand.Rand, level string, want int) item {
	n := 2
	if level == Challenge {
		n = 3
	}
	who := sampleWhere(r, len(people), n, func(int) bool { return true })
	house := make([]int, n)
	var sb strings.Builder
	for i, p := range who {
		house[i] = r.IntN(len(bqHouses))
		fmt.Fprintf(&sb, "%s lives in the %s house. ", people[p], bqHouses[house[i]])
	}
	t := r.IntN(n)
	name, hs := people[who[t]], house[t]
	truth := want == 0 // option 0 is "True"
	// other returns a value different from v, to make a false claim.
	other := func(v, n int) int { return (v + 1 + r.IntN(n-1)) % n }
	pet, job := w.pet[hs], w.job[hs]
	var q string
	switch form := r.IntN(2); {
	case level == Challenge && r.IntN(2) == 0:
		if !truth {
			switch r.IntN(3) {
			case 0:
				pet = other(pet, 6)
			case 1:
				job = other(job, 6)
			default:
				pet, job = other(pet, 6), other(job, 6)
			}
		}
		q = fmt.Sprintf("is %s a %s who keeps a %s?", name, bqJobs[job], bqPets[pet])
	case form == 0:
		if !truth {
			pet = other(pet, 6)
		}
		q = fmt.Sprintf("does %s keep a %s?", name, bqPets[pet])
	default:
		if !truth {
			job = other(job, 6)
		}
		q = fmt.Sprintf("is %s a %s?", name, bqJobs[job])
	}
	ans := 0
	if !truth {
		ans = 1
	}
	return item{prompt: sb.String() + "Q: " + q, options: []string{"True", "False"}, fixed: true, answer: ans}
}

// --------------------------------------------------------------- PIQA ----
// Physical affordances: in instance k each goal is achieved with one tool
// (hidden; tools may serve several goals). Challenge chains two goals and
// adds order-swapped distractors.

var piqaGoals = []string{"cut the rope", "dig a hole", "carry water", "tie the gate", "crack a nut", "wipe the table",
	"start a fire", "reach the shelf", "scoop sand", "pound a stake", "block the wind", "catch a fish"}
var piqaTools = []string{"shell", "stick", "cup", "vine", "stone", "leaf", "wire", "bowl", "plank", "net"}

func piqaFamily() *family {
	nt := uint64(len(piqaTools))
	return &family{
		name: "piqa", domain: "physical", role: tasks.InDomain, level: Easy, nopts: 2,
		desc:  "PIQA-style goal + 2 solutions; hidden: which tool works for which goal",
		space: pow(nt, uint64(len(piqaGoals))),
		build: func(h uint64) world {
			w := &piqaWorld{}
			for g := range w.tool {
				w.tool[g] = int(h % nt)
				h /= nt
			}
			return w
		},
	}
}

type piqaWorld struct{ tool [12]int }

func (w *piqaWorld) hidden() map[string]string {
	out := map[string]string{}
	for g, goal := range piqaGoals {
		out[goal] = piqaTools[w.tool[g]]
	}
	return out
}

func (w *piqaWorld) item(r *rand.Rand, level string, want int) item {
	nt, ng := len(piqaTools), len(piqaGoals)
	otherTool := func(t int) int { return (t + 1 + r.IntN(nt-1)) % nt }
	who := pick(r, people)
	if level != Challenge {
		g := r.IntN(ng)
		t := w.tool[g]
		return item{
			prompt:  who + " wants to " + piqaGoals[g] + ". How?",
			options: []string{"Use the " + piqaTools[t] + ".", "Use the " + piqaTools[otherTool(t)] + "."},
		}
	}
	g1 := r.IntN(ng)
	g2 := (g1 + 1 + r.IntN(ng-1)) % ng
	t1, t2 := w.tool[g1], w.tool[g2]
	sol := func(a, b int) string { return "Use the " + piqaTools[a] + ", then the " + piqaTools[b] + "." }
	var bad string
	switch k := r.IntN(3); {
	case k == 0 && t1 != t2:
		bad = sol(t2, t1) // right tools, wrong order
	case k == 1:
		bad = sol(otherTool(t1), t2)
	default:
		bad = sol(t1, otherTool(t2))
	}
	return item{
		prompt:  who + " wants to " + piqaGoals[g1] + " and then " + piqaGoals[g2] + ". How?",
		options: []string{sol(t1, t2), bad},
	}
}

// --------------------------------------------------------- WinoGrande ----
// Eight people; in instance k each of four traits belongs to exactly four of
// them (hidden). The sentence puts two people in a situation where only the
// one with (or without) the trait fits the blank.

var wgNames = []string{"Ann", "Bob", "Carl", "Dana", "Emma", "Fred", "Gwen", "Hugo"}

// wgTrait has sentence templates with two name slots and one blank; in pos
// templates the blank is the person with the trait, in neg ones the person
// without it.
type wgTrait struct {
	key      string
	pos, neg []string
}

var wgTraits = []wgTrait{
	{"tall",
		[]string{"%s and %s tried to reach the top shelf, but only _ could.", "%s and %s tried to pick the apple off the tree; only _ reached it."},
		[]string{"%s and %s tried to reach the top shelf, but _ could not.", "%s and %s tried to pick the apple off the tree; _ could not reach it."}},
	{"strong",
		[]string{"%s and %s tried to lift the rock, but only _ could.", "%s and %s pushed the stuck door; only _ moved it."},
		[]string{"%s and %s tried to lift the rock, but _ could not.", "%s and %s pushed the stuck door; _ gave up."}},
	{"fast",
		[]string{"%s raced %s, and _ won.", "%s and %s ran for the bus, and only _ caught it."},
		[]string{"%s raced %s, and _ lost.", "%s and %s ran for the bus, and _ missed it."}},
	{"kind",
		[]string{"%s and %s saw a lost dog, and only _ helped it.", "%s and %s met a crying child; only _ stopped to help."},
		[]string{"%s and %s saw a lost dog, and _ walked away.", "%s and %s met a crying child; _ walked past."}},
}

const wgBoth = "%s and %s tried to lift the rock and reach the top shelf; only _ could do both."

func winograndeFamily() *family {
	return &family{
		name: "winogrande", domain: "commonsense", role: tasks.InDomain, level: Easy, nopts: 2,
		desc:  "WinoGrande-style sentence with a blank + 2 options; hidden: which people are tall, strong, fast, kind",
		space: pow(binom(8, 4), 4),
		build: func(h uint64) world {
			w := &wgWorld{}
			for t := range wgTraits {
				var c []int
				c, h = decodeCombo(h, 8, 4)
				for _, p := range c {
					w.has[t][p] = true
				}
			}
			return w
		},
	}
}

type wgWorld struct{ has [4][8]bool }

func (w *wgWorld) hidden() map[string]string {
	out := map[string]string{}
	for t, tr := range wgTraits {
		var ps []string
		for p, n := range wgNames {
			if w.has[t][p] {
				ps = append(ps, n)
			}
		}
		out[tr.key] = strings.Join(ps, ", ")
	}
	return out
}

func (w *wgWorld) item(r *rand.Rand, level string, want int) item {
	for {
		x, y := r.IntN(8), r.IntN(8)
		if x == y {
			continue
		}
		var tmpl string
		var fits func(p int) bool
		t := r.IntN(4)
		switch form := 0; {
		case level == Challenge:
			form = r.IntN(3)
			switch form {
			case 0:
				tmpl, fits = pick(r, wgTraits[t].pos), func(p int) bool { return w.has[t][p] }
			case 1:
				tmpl, fits = pick(r, wgTraits[t].neg), func(p int) bool { return !w.has[t][p] }
			default:
				tmpl, fits = wgBoth, func(p int) bool { return w.has[0][p] && w.has[1][p] }
			}
		default:
			tmpl, fits = pick(r, wgTraits[t].pos), func(p int) bool { return w.has[t][p] }
		}
		// Exactly one of the two must fit the blank.
		if fits(x) == fits(y) {
			continue
		}
		right, wrong := x, y
		if fits(y) {
			right, wrong = y, x
		}
		return item{prompt: fmt.Sprintf(tmpl, wgNames[x], wgNames[y]), options: []string{wgNames[right], wgNames[wrong]}}
	}
}
