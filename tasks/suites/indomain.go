package suites

import (
	"fmt"
	"math/rand/v2"

	"github.com/degaml/workbench/tasks"
)

// The in-domain group: which of eight materials have which of four
// properties; each property is held by exactly three materials. The six
// in-domain suites ask about these worlds in their own forms.
var (
	materials  = list("iron", "wax", "salt", "glass", "clay", "tin", "wool", "cork")
	properties = list("magnetic", "buoyant", "brittle", "shiny")
	people     = list("ann", "bob", "kim", "lee", "max", "sue", "tom", "zoe")
)

var commonsense = &group{
	name: "commonsense", keys: properties, vals: materials, holders: 3,
	// "fact magnetic tin ." keeps the pair adjacent, property first as in
	// the questions, so that even a bag of token pairs sees which material
	// goes with which property (a sentence encoder would; our prompt
	// features are bag-of-tokens, ../shared/SUITES-V2.md).
	fact: func(key, val string) string { return fmt.Sprintf(words("fact %s %s ."), key, val) },
}

// holderAndOthers returns one material satisfying ok and n others that do
// not, or nil when the world has none of either.
func holderAndOthers(r *rand.Rand, n int, ok func(m int) bool) []int {
	right := others(r, len(materials), 1, ok)
	wrong := others(r, len(materials), n, func(m int) bool { return !ok(m) })
	if right == nil || wrong == nil {
		return nil
	}
	return append(right, wrong...)
}

func inDomain(name, domain, desc string, nopts int, ask func(r *rand.Rand, w *world, level string, want int) (item, []int)) *family {
	return &family{name: name, domain: domain, role: tasks.InDomain, level: Easy, nopts: nopts, g: commonsense, desc: desc, ask: ask}
}

// ARC: "which material is P ?" (easy) or "… is P and Q ?" (challenge).
func arcFamily(name, level string) *family {
	f := inDomain(name, "science", "ARC-style science question, 4 material words; hidden: which materials have which properties (shared regimes)", 4,
		func(r *rand.Rand, w *world, level string, _ int) (item, []int) {
			for {
				p := r.IntN(len(properties))
				if level == Easy {
					if o := holderAndOthers(r, 3, func(m int) bool { return w.holds(p, m) }); o != nil {
						return item{prompt: fmt.Sprintf(words("which material is %s ?"), properties[p]), options: namesOf(materials, o)}, []int{p}
					}
					continue
				}
				q := r.IntN(len(properties))
				if q == p {
					continue
				}
				both := func(m int) bool { return w.holds(p, m) && w.holds(q, m) }
				if o := holderAndOthers(r, 3, both); o != nil {
					return item{prompt: fmt.Sprintf(words("which material is %s and %s ?"), properties[p], properties[q]), options: namesOf(materials, o)}, []int{p, q}
				}
			}
		})
	f.level = level
	return f
}

// HellaSwag: a context whose right ending is a material with the property.
func hellaswagFamily() *family {
	return inDomain("hellaswag", "commonsense", "HellaSwag-style context + 4 endings; hidden: which materials have which properties (shared regimes)", 4,
		func(r *rand.Rand, w *world, _ string, _ int) (item, []int) {
			for {
				p := r.IntN(len(properties))
				if o := holderAndOthers(r, 3, func(m int) bool { return w.holds(p, m) }); o != nil {
					return item{prompt: fmt.Sprintf(words("at the workshop %s needed something %s , so she reached for the"), pick(r, people), properties[p]),
						options: namesOf(materials, o)}, []int{p}
				}
			}
		})
}

// BoolQ: a passage naming two materials and a yes/no question about one.
func boolqFamily() *family {
	yesNo := list("yes", "no")
	return inDomain("boolq", "reading", "BoolQ-style passage + yes/no question; hidden: which materials have which properties (shared regimes)", 2,
		func(r *rand.Rand, w *world, _ string, want int) (item, []int) {
			for {
				p := r.IntN(len(properties))
				truth := want == 0
				m := others(r, len(materials), 1, func(m int) bool { return w.holds(p, m) == truth })
				o := others(r, len(materials), 1, func(o int) bool { return o != m[0] })
				pair := []int{m[0], o[0]}
				if r.IntN(2) == 0 {
					pair[0], pair[1] = pair[1], pair[0]
				}
				return item{prompt: fmt.Sprintf(words("passage : the %s and the %s lie on the bench . question : is the %s %s ?"),
					materials[pair[0]], materials[pair[1]], materials[m[0]], properties[p]),
					options: yesNo, fixed: true, answer: want}, []int{p}
			}
		})
}

// PIQA: a goal that needs a property and two candidate materials.
func piqaFamily() *family {
	goals := []string{words("lift a nail"), words("stay afloat"), words("make sharp shards"), words("reflect the light")}
	return inDomain("piqa", "physical", "PIQA-style goal + 2 solutions; hidden: which materials have which properties (shared regimes)", 2,
		func(r *rand.Rand, w *world, _ string, _ int) (item, []int) {
			for {
				p := r.IntN(len(properties))
				if o := holderAndOthers(r, 1, func(m int) bool { return w.holds(p, m) }); o != nil {
					return item{prompt: fmt.Sprintf(words("goal : %s wants to %s , solution : use the"), pick(r, people), goals[p]), options: namesOf(materials, o)}, []int{p}
				}
			}
		})
}

// WinoGrande: a sentence with two materials and a blank that refers to the
// one with the property.
func winograndeFamily() *family {
	return inDomain("winogrande", "coreference", "WinoGrande-style sentence with a blank, 2 options; hidden: which materials have which properties (shared regimes)", 2,
		func(r *rand.Rand, w *world, _ string, _ int) (item, []int) {
			for {
				p := r.IntN(len(properties))
				o := holderAndOthers(r, 1, func(m int) bool { return w.holds(p, m) })
				if o == nil {
					continue
				}
				a, b := o[0], o[1]
				if r.IntN(2) == 0 {
					a, b = b, a
				}
				return item{prompt: fmt.Sprintf(words("%s put the %s beside the %s because the _ is %s ."), pick(r, people), materials[a], materials[b], properties[p]),
					options: namesOf(materials, o)}, []int{p}
			}
		})
}
