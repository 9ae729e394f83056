package suites

import (
	"fmt"
	"math/rand/v2"

	"github.com/degaml/workbench/tasks"
)

// numbers are the number words; numbers[n] is n.
var numbers = list("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
	"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")

// outDomain builds an out-of-domain family over its own group.
func outDomain(name, domain, desc string, g *group, ask func(r *rand.Rand, w *world, want int) (item, []int)) *family {
	return &family{name: name, domain: domain, role: tasks.OutOfDomain, level: Easy, nopts: 4, g: g, desc: desc,
		ask: func(r *rand.Rand, w *world, _ string, want int) (item, []int) { return ask(r, w, want) }}
}

// valueAndOthers returns the options "right value first, three other values"
// of a function row: the other values are drawn from the group's values.
func valueAndOthers(r *rand.Rand, g *group, right int, skip ...int) []int {
	o := others(r, len(g.vals), 3, func(v int) bool {
		if v == right {
			return false
		}
		for _, s := range skip {
			if v == s {
				return false
			}
		}
		return true
	})
	return append([]int{right}, o...)
}

// GSM-MC: each good has a hidden price (one to four); "kim buys three pen"
// costs three times it. The options are the quantity times each price.
var gsmGroup = &group{
	name: "gsm-mc", keys: list("pen", "cup", "hat", "bag", "box", "map"), vals: numbers[1:5],
	fact: func(key, val string) string { return fmt.Sprintf(words("fact one %s costs %s ."), key, val) },
}

func gsmFamily() *family {
	return outDomain("gsm-mc", "math", "GSM8K-style word problem, 4 number options; hidden: the price of each good", gsmGroup,
		func(r *rand.Rand, w *world, _ int) (item, []int) {
			k := r.IntN(len(gsmGroup.keys))
			q := 2 + r.IntN(3)
			price := w.rows[k][0] + 1
			opts := []string{numbers[q*price]}
			for p := 1; p <= 4; p++ {
				if p != price {
					opts = append(opts, numbers[q*p])
				}
			}
			return item{prompt: fmt.Sprintf(words("%s buys %s %s at the %s . how much does %s pay in total ?"), pick(r, people), numbers[q], gsmGroup.keys[k], pick(r, places), "she"),
				options: opts}, []int{k}
		})
}

var places = list("market", "shop", "fair")

// MATH-MC: each variable has a hidden value (one to six); "x times three".
var mathGroup = &group{
	name: "math-mc", keys: list("x", "y", "z", "u", "v", "w"), vals: numbers[1:7],
	fact: func(key, val string) string { return fmt.Sprintf(words("fact the value of %s is %s ."), key, val) },
}

func mathFamily() *family {
	return outDomain("math-mc", "math", "MATH-style algebra, 4 number options; hidden: the value of each variable", mathGroup,
		func(r *rand.Rand, w *world, _ int) (item, []int) {
			k := r.IntN(len(mathGroup.keys))
			op := list("plus", "times")[r.IntN(2)]
			n := 2 + r.IntN(2)
			val := func(v int) string { // v is a value index: the value is v+1
				if op == "plus" {
					return numbers[v+1+n]
				}
				return numbers[(v+1)*n]
			}
			vs := valueAndOthers(r, mathGroup, w.rows[k][0])
			opts := make([]string, len(vs))
			for j, v := range vs {
				opts[j] = val(v)
			}
			return item{prompt: fmt.Sprintf(words("solve : %s %s %s = ?"), mathGroup.keys[k], op, numbers[n]), options: opts}, []int{k}
		})
}

// Logic: a hidden rule maps each state to the state it implies.
var (
	logicStates = list("wet", "cold", "dark", "loud", "soft", "warm")
	logicThings = list("room", "road", "field", "house", "lake", "cave", "barn", "yard")
)

var logicGroup = &group{
	name: "logic", keys: logicStates, vals: logicStates, perm: true, noFixed: true,
	fact: func(key, val string) string { return fmt.Sprintf(words("fact if %s then %s ."), key, val) },
}

func logicFamily() *family {
	return outDomain("logic", "logic", "DivLogicEval-style rule application, 4 options; hidden: which state implies which", logicGroup,
		func(r *rand.Rand, w *world, _ int) (item, []int) {
			k := r.IntN(len(logicStates))
			return item{prompt: fmt.Sprintf(words("the %s is %s . by the rule it is also ?"), pick(r, logicThings), logicStates[k]),
				options: namesOf(logicStates, valueAndOthers(r, logicGroup, w.rows[k][0], k))}, []int{k}
		})
}

// Social: how people feel after each kind of event (a hidden one-to-one map).
var socialGroup = &group{
	name: "social", keys: list("insulted", "praised", "ignored", "helped", "thanked", "blamed"),
	vals: list("angry", "proud", "lonely", "grateful", "happy", "sad"), perm: true,
	fact: func(key, val string) string { return fmt.Sprintf(words("fact people who are %s feel %s ."), key, val) },
}

func socialFamily() *family {
	return outDomain("social", "social", "SocialIQA-style situation + 4 reactions; hidden: the feeling each kind of event causes", socialGroup,
		func(r *rand.Rand, w *world, _ int) (item, []int) {
			k := r.IntN(len(socialGroup.keys))
			who := pick(r, people)
			return item{prompt: fmt.Sprintf(words("%s was %s at school . how does %s feel ?"), who, socialGroup.keys[k], who),
				options: namesOf(socialGroup.vals, valueAndOthers(r, socialGroup, w.rows[k][0]))}, []int{k}
		})
}

// Code: a hidden list; the program prints one of its elements.
var codeGroup = &group{
	name: "code", keys: numbers[0:6], vals: numbers[1:10],
	fact: func(key, val string) string { return fmt.Sprintf(words("fact lst [ %s ] is %s ."), key, val) },
}

func codeFamily() *family {
	return outDomain("code", "code", "CodeMMLU-style program output, 4 options; hidden: the contents of the list lst", codeGroup,
		func(r *rand.Rand, w *world, _ int) (item, []int) {
			k := r.IntN(len(codeGroup.keys))
			return item{prompt: fmt.Sprintf(words("x = lst [ %s ] ; print ( x ) . output ?"), codeGroup.keys[k]),
				options: namesOf(codeGroup.vals, valueAndOthers(r, codeGroup, w.rows[k][0]))}, []int{k}
		})
}

// Medical: which disease each finding suggests (a hidden one-to-one map).
var medicalGroup = &group{
	name: "medical", keys: list("fever", "rash", "cough", "chills", "wheeze", "pallor"),
	vals: list("flu", "measles", "cholera", "malaria", "asthma", "anemia"), perm: true,
	fact: func(key, val string) string { return fmt.Sprintf(words("fact %s suggests %s ."), key, val) },
}

var patients = list("man", "woman", "child", "boy", "girl")

func medicalFamily() *family {
	return outDomain("medical", "medical", "JAMA-style clinical vignette + 4 diagnoses; hidden: the disease each finding suggests", medicalGroup,
		func(r *rand.Rand, w *world, _ int) (item, []int) {
			k := r.IntN(len(medicalGroup.keys))
			return item{prompt: fmt.Sprintf(words("a %s presents with %s . what is the likely diagnosis ?"), pick(r, patients), medicalGroup.keys[k]),
				options: namesOf(medicalGroup.vals, valueAndOthers(r, medicalGroup, w.rows[k][0]))}, []int{k}
		})
}
