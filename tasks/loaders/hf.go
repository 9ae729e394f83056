package loaders

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/degaml/workbench/tasks"
)

func init() {
	register(&layout{name: "arc", parse: parseARC,
		doc: `ai2_arc: {question, choices{text,label}, answerKey}; labels A–E or 1–5; also the AI2 {question{stem,choices[]}} form`})
	register(&layout{name: "openbookqa", parse: parseOBQA,
		doc: `openbookqa: {question_stem, choices{text,label}, answerKey}`})
	register(&layout{name: "boolq", parse: parseBoolQ,
		doc: `BoolQ: super_glue {passage, question, label 0/1} or google/boolq {passage, question, answer bool}; options True/False`})
	register(&layout{name: "piqa", parse: parsePIQA,
		doc: `PIQA: {goal, sol1, sol2, label 0/1}`})
	register(&layout{name: "siqa", parse: parseSIQA,
		doc: `SocialIQA: {context, question, answerA, answerB, answerC, label "1"–"3"}`})
	register(&layout{name: "hellaswag", parse: parseHellaSwag,
		doc: `HellaSwag: {activity_label, ctx_a, ctx_b, endings, label}; lm-eval preprocessing; Continuation`})
	register(&layout{name: "winogrande", parse: parseWinoGrande,
		doc: `WinoGrande: {sentence with "_", option1, option2, answer "1"/"2"}; Continuation with Target = shared suffix`})
	register(&layout{name: "gsm8k", parse: parseGSM8K,
		doc: `GSM8K: {question, answer "...#### 42"}; generation item, Target = final number`})
	register(&layout{name: "logiqa", parse: parseLogiQA,
		doc: `LogiQA: {context|text, query|question, options[], correct_option|label|answer (index or letter)}`})
}

// parseChoices reads ARC/OpenBookQA choices in the HF form {text[], label[]}
// or the AI2 form [{text, label}].
func parseChoices(r *rec, k string, v json.RawMessage) (texts, labels []string) {
	var hf struct {
		Text  []json.RawMessage `json:"text"`
		Label []json.RawMessage `json:"label"`
	}
	var list []struct {
		Text  *string `json:"text"`
		Label *string `json:"label"`
	}
	switch {
	case json.Unmarshal(v, &list) == nil:
		for i, c := range list {
			if c.Text == nil || c.Label == nil {
				r.errf(k, "choice %d: want {\"text\": string, \"label\": string}", i)
				return nil, nil
			}
			texts = append(texts, *c.Text)
			labels = append(labels, *c.Label)
		}
	case json.Unmarshal(v, &hf) == nil && kind(v) == "an object":
		if hf.Text == nil || hf.Label == nil {
			r.errf(k, "want {\"text\": [...], \"label\": [...]}")
			return nil, nil
		}
		texts = r.strListRaw(k+".text", mustRaw(hf.Text))
		labels = r.strListRaw(k+".label", mustRaw(hf.Label))
		if texts == nil || labels == nil {
			return nil, nil
		}
		if len(texts) != len(labels) {
			r.errf(k, "%d texts but %d labels", len(texts), len(labels))
			return nil, nil
		}
	default:
		r.errf(k, "want {\"text\": [...], \"label\": [...]} or a list of {text, label}, got %s", kind(v))
		return nil, nil
	}
	if len(texts) == 0 {
		r.errf(k, "empty options")
		return nil, nil
	}
	seen := map[string]bool{}
	for _, l := range labels {
		if seen[l] {
			r.errf(k, "duplicate label %q", l)
			return nil, nil
		}
		seen[l] = true
	}
	return texts, labels
}

func mustRaw(v []json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// parseARC keeps the choices in file order (letters are reassigned A, B, ...)
// and maps answerKey through the labels, which may be "1"–"4".
func parseARC(r *rec) tasks.Example {
	ex := tasks.Example{Answer: -1}
	qv, ok := r.get("question")
	if !ok {
		return ex
	}
	var choices json.RawMessage
	var stem struct {
		Stem    *string         `json:"stem"`
		Choices json.RawMessage `json:"choices"`
	}
	if err := json.Unmarshal(qv, &ex.Prompt); err == nil {
		choices, ok = r.get("choices")
		if !ok {
			return ex
		}
	} else if json.Unmarshal(qv, &stem) == nil && stem.Stem != nil && stem.Choices != nil {
		ex.Prompt, choices = *stem.Stem, stem.Choices
	} else {
		r.errf("question", "want a string or {stem, choices}, got %s", kind(qv))
		return ex
	}
	setChoices(r, &ex, choices)
	return ex
}

func parseOBQA(r *rec) tasks.Example {
	ex := tasks.Example{Prompt: r.str("question_stem"), Answer: -1}
	if v, ok := r.get("choices"); ok {
		setChoices(r, &ex, v)
	}
	return ex
}

// setChoices fills ex's options from the ARC/OpenBookQA choices v and its
// answer from answerKey, mapped through the choices' labels; on a bad
// choices value it leaves ex as it is (the problem is already recorded).
func setChoices(r *rec, ex *tasks.Example, v json.RawMessage) {
	texts, labels := parseChoices(r, "choices", v)
	if texts == nil {
		return
	}
	ex.Options = texts
	ex.Answer = r.letterIndex("answerKey", labels)
}

// parseBoolQ renders the passage and question as lm-eval does
// ("{passage}\nQuestion: {question}?") with the options True (A) and False
// (B); super_glue's label 1 means True.
func parseBoolQ(r *rec) tasks.Example {
	passage, q := r.str("passage"), r.str("question")
	ex := tasks.Example{
		Prompt:  passage + "\nQuestion: " + q + "?",
		Options: []string{"True", "False"},
		Answer:  -1,
	}
	switch {
	case r.has("answer"):
		v, _ := r.get("answer")
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			r.errf("answer", "want a boolean, got %s", kind(v))
			return ex
		}
		if b {
			ex.Answer = 0
		} else {
			ex.Answer = 1
		}
	case r.has("label"):
		if l := r.index("label", 0, 2); l >= 0 {
			ex.Answer = 1 - l
		}
	default:
		r.errf("", "missing field \"label\" (super_glue) or \"answer\" (google/boolq)")
	}
	return ex
}

func parsePIQA(r *rec) tasks.Example {
	ex := tasks.Example{Prompt: r.str("goal"), Options: []string{r.str("sol1"), r.str("sol2")}}
	ex.Answer = r.index("label", 0, 2)
	return ex
}

// parseSIQA joins context and question with a space, as lm-eval's
// "Q: {context} {question}" does; labels are "1"–"3".
func parseSIQA(r *rec) tasks.Example {
	ex := tasks.Example{
		Prompt:  strings.TrimSpace(r.str("context") + " " + r.str("question")),
		Options: []string{r.str("answerA"), r.str("answerB"), r.str("answerC")},
	}
	ex.Answer = r.index("label", 1, 3)
	return ex
}

var bracketRE = regexp.MustCompile(`\[.*?\]`)

// HellaSwagPreprocess is lm-eval's cleanup of the WikiHow artifacts: strip,
// " [title]" → ". ", drop "[...]" tags, then one pass of "  " → " ".
func HellaSwagPreprocess(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, " [title]", ". ")
	s = bracketRE.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "  ", " ")
}

// pyCapitalize is Python's str.capitalize: first rune upper, rest lower.
func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + strings.ToLower(s[n:])
}

// parseHellaSwag builds lm-eval's query
// preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize())
// and preprocessed endings; ctx is used when ctx_a/ctx_b are absent.
func parseHellaSwag(r *rec) tasks.Example {
	label := r.optStr("activity_label")
	var ctx string
	if r.has("ctx_a") || !r.has("ctx") {
		ctx = r.str("ctx_a") + " " + pyCapitalize(r.optStr("ctx_b"))
	} else {
		ctx = r.str("ctx")
	}
	q := ctx
	if label != "" {
		q = label + ": " + ctx
	}
	ex := tasks.Example{Prompt: HellaSwagPreprocess(q), Continuation: true}
	endings := r.strList("endings")
	if endings != nil && len(endings) == 0 {
		r.errf("endings", "empty options")
	}
	for _, e := range endings {
		ex.Options = append(ex.Options, HellaSwagPreprocess(e))
	}
	ex.Answer = r.index("label", 0, len(endings))
	return ex
}

// parseWinoGrande keeps the sentence (with its "_") as the Prompt, the two
// fillers as Options, and lm-eval's shared suffix (the text after the first
// "_", trimmed) as Target. Scoring uses partial evaluation: context =
// Prompt[:index("_")] + option, continuation = " " + Target (see
// scoring.Requests). The DnD rendering stays the natural "sentence\nA: x\nB: y".
func parseWinoGrande(r *rec) tasks.Example {
	s := r.str("sentence")
	ex := tasks.Example{Prompt: s, Options: []string{r.str("option1"), r.str("option2")}, Continuation: true}
	i := strings.Index(s, "_")
	if i < 0 {
		if !r.bad {
			r.errf("sentence", "has no \"_\" blank")
		}
	} else {
		ex.Target = strings.TrimSpace(s[i+1:])
	}
	ex.Answer = r.index("answer", 1, 2)
	return ex
}

// GSM8KFinal extracts the final answer after the last "####" and normalizes
// it as lm-eval's exact_match does (drops ",", "$" and a trailing ".").
func GSM8KFinal(answer string) (string, bool) {
	i := strings.LastIndex(answer, "####")
	if i < 0 {
		return "", false
	}
	s := strings.TrimSpace(answer[i+4:])
	s = strings.NewReplacer(",", "", "$", "").Replace(s)
	s = strings.TrimSuffix(s, ".")
	return s, s != ""
}

func parseGSM8K(r *rec) tasks.Example {
	ex := tasks.Example{Prompt: r.str("question"), Answer: -1}
	a := r.str("answer")
	if r.bad {
		return ex
	}
	t, ok := GSM8KFinal(a)
	if !ok {
		r.errf("answer", "no final answer after \"####\"")
	}
	ex.Target = t
	return ex
}

// parseLogiQA: Prompt = context + "\n" + question; the answer is an index
// (0-based) or a letter, under correct_option, label or answer.
func parseLogiQA(r *rec) tasks.Example {
	ctx := r.optStr("context")
	if ctx == "" {
		ctx = r.optStr("text")
	}
	q := r.optStr("query")
	if q == "" {
		q = r.optStr("question")
	}
	if ctx == "" && q == "" {
		r.errf("", "missing field \"context\"/\"text\" and \"query\"/\"question\"")
	}
	ex := tasks.Example{Prompt: strings.TrimSpace(ctx + "\n" + q), Answer: -1}
	ex.Options = r.strList("options")
	if ex.Options == nil {
		return ex
	}
	if len(ex.Options) == 0 {
		r.errf("options", "empty options")
		return ex
	}
	for _, k := range []string{"correct_option", "label", "answer"} {
		if r.has(k) {
			ex.Answer = answerIndexOrLetter(r, k, len(ex.Options))
			return ex
		}
	}
	r.errf("", "missing field \"correct_option\" (or \"label\"/\"answer\")")
	return ex
}

// answerIndexOrLetter reads a 0-based index or a letter "A"/"a".
func answerIndexOrLetter(r *rec, k string, n int) int {
	v, _ := r.get(k)
	var s string
	if json.Unmarshal(v, &s) == nil {
		t := strings.TrimSpace(s)
		if len(t) == 1 && unicode.IsLetter(rune(t[0])) {
			i := int(unicode.ToUpper(rune(t[0])) - 'A')
			if i < 0 || i >= n {
				r.errf(k, "answer %q out of range A–%s", s, optLetter(n-1))
				return -1
			}
			return i
		}
	}
	return r.index(k, 0, n)
}
