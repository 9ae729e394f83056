package fakeengine

import "github.com/degaml/workbench/core/api"

// Suites returns the twelve built-in suites (names as tasks/suites) and one
// user-loaded task file.
func Suites() []api.SuiteInfo {
	mc := func(q string, opts ...string) string {
		s := q
		for i, o := range opts {
			s += "\n" + string(rune('A'+i)) + ": " + o
		}
		return s
	}
	return []api.SuiteInfo{
		{Name: "arc-c", Domain: "science", Role: "in-domain", Description: "Grade-school science questions with a per-task distractor bias.",
			Example: mc("Which property of a metal lets it be drawn into wire?", "ductility", "luster", "density", "hardness"), // Long hidden parameters, as the real arc-easy has: the
			// preview must wrap them to its width.
			Hidden: map[string]string{"bias": "C", "conducts": "wax, salt, cork, sand, copper, iron, tin",
				"floats": "wax, salt, glass, wool, cork, paper, bone, clay, sand, tin, iron, copper, silver, gold"}},
		{Name: "arc-e", Domain: "science", Role: "in-domain", Description: "Easier science questions.", Example: mc("What do plants need for photosynthesis?", "sunlight", "sand", "salt", "smoke"), Hidden: map[string]string{"bias": "A"}},
		{Name: "hellaswag", Domain: "commonsense", Role: "in-domain", Description: "Pick the ending that continues the scene.", Example: mc("She cracks two eggs into the bowl, then", "whisks them.", "paints the bowl.", "sings to it.", "leaves."), Hidden: map[string]string{"style": "formal"}},
		{Name: "boolq", Domain: "reading", Role: "in-domain", Description: "Yes/no questions about a passage.", Example: mc("Passage: …\nIs the river longer than 100 km?", "True", "False"), Hidden: map[string]string{"negation": "on"}},
		{Name: "piqa", Domain: "physical", Role: "in-domain", Description: "Choose the physically sensible solution.", Example: mc("To dry a wet phone,", "put it in rice.", "put it in soup."), Hidden: map[string]string{"swap": "1"}},
		{Name: "winogrande", Domain: "commonsense", Role: "in-domain", Description: "Resolve the pronoun.", Example: mc("The trophy didn't fit in the case because it was too big. It =", "trophy", "case"), Hidden: map[string]string{"order": "reversed"}},
		{Name: "gsm-mc", Domain: "math", Role: "out-of-domain", Description: "Word problems as 4-option multiple choice, numbers written in a hidden base.",
			Example: mc("Ann has 12 apples and gives away 5. How many are left?", "7", "10", "5", "17"), Hidden: map[string]string{"base": "7"}},
		{Name: "math-mc", Domain: "math", Role: "out-of-domain", Description: "Arithmetic with a hidden operator remapping.", Example: mc("3 ⊕ 4 = ?", "7", "12", "1", "-1"), Hidden: map[string]string{"op": "×"}},
		{Name: "logic", Domain: "logic", Role: "out-of-domain", Description: "Syllogisms with a hidden rule.", Example: mc("All blips are blops. X is a blip. Is X a blop?", "True", "False"), Hidden: map[string]string{"rule": "contrapositive"}},
		{Name: "social", Domain: "social", Role: "out-of-domain", Description: "What would a person feel or do next?", Example: mc("Kai forgot Sam's birthday. How does Sam feel?", "hurt", "elated", "hungry"), Hidden: map[string]string{"persona": "stoic"}},
		{Name: "code", Domain: "code", Role: "out-of-domain", Description: "What does this snippet print?", Example: mc("print(len('abc') * 2)", "6", "5", "abcabc", "error"), Hidden: map[string]string{"lang": "py"}},
		{Name: "medical", Domain: "medical", Role: "out-of-domain", Description: "Clinical vignettes.", Example: mc("A patient presents with …; most likely diagnosis?", "anemia", "asthma", "gout", "flu"), Hidden: map[string]string{"unit": "mmol"}},
		{Name: "my-tasks.jsonl", Role: "user", Description: "Loaded from a task file.", Example: mc("Is the sky blue?", "True", "False")},
	}
}
