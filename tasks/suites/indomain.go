package suites

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/degaml/workbench/tasks"
)

// ---------------------------------------------------------------- ARC ----
// A synthetic world of ten materials and six properties; in world k each
// property holds for exactly four materials (hidden). Easy asks which
// material has a property; challenge negates or combines two properties.

var arcMaterials = []string{"iron", "wax", "salt", "glass", "clay", "tin", "wool", "cork", "sand", "bone"}

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
		space: pow(binom(10, 4), 6),
		build: func(h uint64) world {
			w := &arcWorld{}
			for p := range arcProps {
				var c []int
				c, h = decodeCombo(h, len(arcMaterials), 4)
				for _, m := range c {
					w.has[p][m] = true
				}
			}
			return w
		},
	}
}

type arcWorld struct{ has [6][10]bool }

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
		right := sampleWhere(r, len(arcMaterials), 1, ok)
		wrong := sampleWhere(r, len(arcMaterials), 3, func(m int) bool { return !ok(m) })
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
	form := 0
	if level == Challenge {
		form = 1 + r.IntN(2)
	}
	switch form {
	case 0:
		j = r.IntN(7)
		ans = j + 1
	case 1:
		j = r.IntN(6)
		ans, suffix = j+2, hsTwo
	case 2:
		j = 1 + r.IntN(7)
		ans, suffix = j-1, hsBefore
	}
	ctx := hsVerbs[w.seq[j]]
	prev := -1
	// Half the forward contexts also show the action before: unlabeled
	// prompts then reveal adjacent pairs of the routine.
	if suffix != hsBefore && j > 0 && r.IntN(2) == 0 {
		prev = j - 1
		ctx = hsVerbs[w.seq[prev]] + ", then " + ctx
	}
	// Distractors come from the routine itself, so only the order tells;
	// actions already named in the context are left out so "not an action
	// just named" is no shortcut.
	wrong := sampleWhere(r, 8, 3, func(x int) bool { return x != ans && x != j && x != prev })
	opts := []string{hsVerbs[w.seq[ans]] + "."}
	for _, x := range wrong {
		opts = append(opts, hsVerbs[w.seq[x]]+".")
	}
	return item{
		prompt:  fmt.Sprintf("At the %s, %s %s. %s", pick(r, hsPlaces), pick(r, hsNames), ctx, suffix),
		options: opts,
	}
}

// -------------------------------------------------------------- BoolQ ----
// A passage says who lives in which colored house; in instance k each house
// color comes with its own pet and trade (hidden), and the question asks
// about a person's pet or trade.

var bqHouses = []string{"red", "blue", "green", "white", "gray", "black"}
var bqPets = []string{"cat", "dog", "pig", "goat", "hen", "fish"}
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
	for i := range house {
		house[i] = r.IntN(len(bqHouses))
	}
	t := r.IntN(n)
	name, hs := people[who[t]], house[t]
	truth := want == 0 // option 0 is "True"
	// other returns a value different from v, to make a false claim.
	other := func(v int) int { return (v + 1 + r.IntN(5)) % 6 }
	pet, job := w.pet[hs], w.job[hs]
	askPet, askJob := false, false
	var q string
	form := r.IntN(2) // 0: pet, 1: trade
	if level == Challenge && r.IntN(2) == 0 {
		form = 2 // both, in one question
	}
	switch form {
	case 2:
		askPet, askJob = true, true
		if !truth {
			switch r.IntN(3) {
			case 0:
				pet = other(pet)
			case 1:
				job = other(job)
			default:
				pet, job = other(pet), other(job)
			}
		}
		q = fmt.Sprintf("is %s a %s who keeps a %s?", name, bqJobs[job], bqPets[pet])
	case 0:
		askPet = true
		if !truth {
			pet = other(pet)
		}
		q = fmt.Sprintf("does %s keep a %s?", name, bqPets[pet])
	default:
		askJob = true
		if !truth {
			job = other(job)
		}
		q = fmt.Sprintf("is %s a %s?", name, bqJobs[job])
	}
	var sb strings.Builder
	for i, p := range who {
		fmt.Fprintf(&sb, "%s lives in the %s house", people[p], bqHouses[house[i]])
		// Some sentences state a true fact about another house: unlabeled
		// passages then carry part of the hidden table. Never about the
		// target's house (the passage alone would answer), and never the
		// value asked about (one house per value would make that a "False").
		cp, cj := w.pet[house[i]], w.job[house[i]]
		if house[i] != hs && r.IntN(2) == 0 {
			if r.IntN(2) == 0 && !(askPet && cp == pet) {
				fmt.Fprintf(&sb, " and keeps a %s", bqPets[cp])
			} else if !(askJob && cj == job) {
				fmt.Fprintf(&sb, " and is a %s", bqJobs[cj])
			}
		}
		sb.WriteString(". ")
	}
	ans := 0
	if !truth {
		ans = 1
	}
	return item{prompt: sb.String() + "Q: " + q, options: []string{"True", "False"}, fixed: true, answer: ans}
}

// --------------------------------------------------------------- PIQA ----
// Physical affordances. Every goal needs one property of a tool (public and
// fixed: cutting needs something sharp), but which tools have which property
// is hidden per instance: in world k the shell may be sharp and the stick
// hollow. Each property holds for exactly four of ten tools, so what the
// support set teaches about one goal transfers to the other goal needing the
// same property. Challenge chains two goals and adds order-swapped
// distractors.

var piqaProps = []string{"sharp", "hollow", "long", "heavy", "flat", "soft"}

// piqaGoals[g] needs property piqaNeeds[g].
var piqaGoals = []string{"cut the rope", "carve a spoon", "carry water", "scoop sand", "reach the shelf", "poke the fire",
	"crack a nut", "pound a stake", "fan the fire", "shade your eyes", "wipe the table", "pad a seat"}
var piqaNeeds = []int{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}
var piqaTools = []string{"shell", "stick", "cup", "vine", "stone", "leaf", "wire", "bowl", "plank", "rag"}

func piqaFamily() *family {
	return &family{
		name: "piqa", domain: "physical", role: tasks.InDomain, level: Easy, nopts: 2,
		desc:  "PIQA-style goal + 2 solutions; hidden: which tools are sharp, hollow, long, heavy, flat, soft (goals need one each)",
		space: pow(binom(len(piqaTools), 4), uint64(len(piqaProps))),
		build: func(h uint64) world {
			w := &piqaWorld{}
			for p := range piqaProps {
				var c []int
				c, h = decodeCombo(h, len(piqaTools), 4)
				for _, t := range c {
					w.has[p][t] = true
				}
			}
			return w
		},
	}
}

type piqaWorld struct{ has [6][10]bool }

func (w *piqaWorld) hidden() map[string]string {
	out := map[string]string{}
	for p, prop := range piqaProps {
		var ts []string
		for t, name := range piqaTools {
			if w.has[p][t] {
				ts = append(ts, name)
			}
		}
		out[prop] = strings.Join(ts, ", ")
	}
	return out
}

// works reports whether tool t serves goal g.
func (w *piqaWorld) works(t, g int) bool { return w.has[piqaNeeds[g]][t] }

func (w *piqaWorld) item(r *rand.Rand, level string, want int) item {
	nt, ng := len(piqaTools), len(piqaGoals)
	// tool draws a tool that does (ok) or does not serve goal g.
	tool := func(g int, ok bool) int {
		return sampleWhere(r, nt, 1, func(t int) bool { return w.works(t, g) == ok })[0]
	}
	if level != Challenge {
		g := r.IntN(ng)
		return item{
			prompt:  "How do you " + piqaGoals[g] + "?",
			options: []string{"Use the " + piqaTools[tool(g, true)] + ".", "Use the " + piqaTools[tool(g, false)] + "."},
		}
	}
	for {
		g1, g2 := r.IntN(ng), r.IntN(ng)
		if piqaNeeds[g1] == piqaNeeds[g2] {
			continue
		}
		t1, t2 := tool(g1, true), tool(g2, true)
		sol := func(a, b int) string { return "Use the " + piqaTools[a] + ", then the " + piqaTools[b] + "." }
		var bad string
		switch r.IntN(3) {
		case 0: // right tools, wrong order
			if t1 == t2 || (w.works(t2, g1) && w.works(t1, g2)) {
				continue
			}
			bad = sol(t2, t1)
		case 1:
			bad = sol(tool(g1, false), t2)
		default:
			bad = sol(t1, tool(g2, false))
		}
		return item{
			prompt:  "How do you " + piqaGoals[g1] + " and then " + piqaGoals[g2] + "?",
			options: []string{sol(t1, t2), bad},
		}
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
		form := 0
		if level == Challenge {
			form = r.IntN(3)
		}
		switch form {
		case 0:
			tmpl, fits = pick(r, wgTraits[t].pos), func(p int) bool { return w.has[t][p] }
		case 1:
			tmpl, fits = pick(r, wgTraits[t].neg), func(p int) bool { return !w.has[t][p] }
		default: // tall and strong at once
			tmpl, fits = wgBoth, func(p int) bool { return w.has[0][p] && w.has[1][p] }
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
