package loaders

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/degaml/workbench/tasks"
)

func init() {
	register(&layout{name: "medqa", parse: parseMedQA,
		doc: `MedQA: {question, options{A:..}, answer_idx}, {question, answer, options[...]} (strings or {key,value}), or {sent1, ending0.., label}`})
	register(&layout{name: "medmcqa", parse: parseMedMCQA, post: medmcqaBase(-1),
		doc: `MedMCQA: {question, opa..opd, cop}; cop base per file: 0-based (HF) when a cop of 0 occurs, 1-based (original release) when a 4 occurs; otherwise use medmcqa-0 / medmcqa-1`})
	register(&layout{name: "medmcqa-0", parse: parseMedMCQA, post: medmcqaBase(0),
		doc: `MedMCQA with cop 0–3 (openlifescienceai/medmcqa on the Hub)`})
	register(&layout{name: "medmcqa-1", parse: parseMedMCQA, post: medmcqaBase(1),
		doc: `MedMCQA with cop 1–4 (the original GitHub release)`})
	register(&layout{name: "pubmedqa", parse: parsePubMedQA,
		doc: `PubMedQA: ori_pqal.json {PMID: {QUESTION, CONTEXTS, final_decision}} or HF pubmed_qa {question, context{contexts}, final_decision}; options yes/no/maybe`})
}

// parseMedQA accepts the common MedQA layouts. With answer_idx the letter
// decides; otherwise the answer text must equal one option (or be a letter).
func parseMedQA(r *rec) tasks.Example {
	ex := tasks.Example{Answer: -1}
	if r.has("sent1") {
		// MedQA-USMLE-4-options-hf: SWAG-style sent1/sent2/ending0../label.
		ex.Prompt = strings.TrimSpace(r.str("sent1") + " " + r.optStr("sent2"))
		for i := 0; ; i++ {
			k := fmt.Sprintf("ending%d", i)
			if !r.has(k) {
				break
			}
			ex.Options = append(ex.Options, r.str(k))
		}
		if len(ex.Options) == 0 {
			r.errf("", "empty options: no ending0, ending1, ... fields")
			return ex
		}
		ex.Answer = r.index("label", 0, len(ex.Options))
		return ex
	}
	ex.Prompt = r.str("question")
	v, ok := r.get("options")
	if !ok {
		return ex
	}
	var keys []string
	ex.Options, keys = medqaOptions(r, v)
	if ex.Options == nil {
		return ex
	}
	switch {
	case r.has("answer_idx"):
		ex.Answer = r.letterIndex("answer_idx", keys)
	case r.has("answer"):
		a := strings.TrimSpace(r.str("answer"))
		for i, o := range ex.Options {
			if strings.TrimSpace(o) == a {
				ex.Answer = i
				break
			}
		}
		if ex.Answer < 0 {
			for i, k := range keys {
				if k == a {
					ex.Answer = i
				}
			}
		}
		if ex.Answer < 0 && !r.bad {
			r.errf("answer", "%q matches no option text or key", a)
		}
	default:
		r.errf("", "missing field \"answer_idx\" (or \"answer\")")
	}
	return ex
}

// medqaOptions reads options as {"A": text, ...} (keys must be A, B, C, ...
// without gaps), a list of strings, or a list of {key, value}.
func medqaOptions(r *rec, v json.RawMessage) (opts, keys []string) {
	var m map[string]json.RawMessage
	var list []json.RawMessage
	switch {
	case json.Unmarshal(v, &m) == nil:
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if k != optLetter(i) {
				r.errf("options", "keys %q are not A, B, C, ... in sequence", keys)
				return nil, nil
			}
			var s string
			if err := json.Unmarshal(m[k], &s); err != nil {
				r.errf("options", "option %s: want a string, got %s", k, kind(m[k]))
				return nil, nil
			}
			opts = append(opts, s)
		}
	case json.Unmarshal(v, &list) == nil:
		for i, e := range list {
			var s string
			var kv struct {
				Key   *string `json:"key"`
				Value *string `json:"value"`
			}
			switch {
			case json.Unmarshal(e, &s) == nil && kind(e) != "null":
				opts = append(opts, s)
				keys = append(keys, optLetter(i))
			case json.Unmarshal(e, &kv) == nil && kv.Key != nil && kv.Value != nil:
				opts = append(opts, *kv.Value)
				keys = append(keys, *kv.Key)
			default:
				r.errf("options", "element %d: want a string or {key, value}, got %s", i, kind(e))
				return nil, nil
			}
		}
	default:
		r.errf("options", "want an object or an array, got %s", kind(v))
		return nil, nil
	}
	if len(opts) == 0 {
		r.errf("options", "empty options")
		return nil, nil
	}
	return opts, keys
}

// parseMedMCQA stores the raw cop in Answer; the layout's post step maps it
// once the file's base is known.
func parseMedMCQA(r *rec) tasks.Example {
	ex := tasks.Example{Prompt: r.str("question"), Answer: -1}
	for _, k := range []string{"opa", "opb", "opc", "opd"} {
		ex.Options = append(ex.Options, r.str(k))
	}
	if c, ok := r.intVal("cop"); ok {
		if c < 0 || c > 4 {
			r.errf("cop", "answer %d out of range (0–3 or 1–4)", c)
		}
		ex.Answer = c
	}
	return ex
}

// medmcqaBase returns the post step for a fixed base, or (base -1) the
// per-file detection. Ambiguous files are errors rather than silent guesses:
// a 1-based file without any cop 4 would otherwise be mislabelled.
func medmcqaBase(base int) func(p *parser) {
	return func(p *parser) {
		b := base
		if b < 0 {
			var zero, four *rec
			for i, ex := range p.exs {
				if ex.Answer == 0 && zero == nil {
					zero = p.good[i]
				}
				if ex.Answer == 4 && four == nil {
					four = p.good[i]
				}
			}
			switch {
			case zero != nil && four != nil:
				four.errf("cop", "is 4 while an earlier-or-other record has cop 0 (line %d): mixed 0- and 1-based answers", zero.line)
				return
			case zero != nil:
				b = 0
			case four != nil:
				b = 1
			default:
				p.add(Problem{Line: 1, Msg: "cannot tell whether cop is 0-based or 1-based (no cop of 0 or 4): use --format medmcqa-0 or medmcqa-1"})
				return
			}
		}
		for i := range p.exs {
			a := p.exs[i].Answer - b
			if a < 0 || a >= len(p.exs[i].Options) {
				p.good[i].errf("cop", "answer %d out of range %d..%d", p.exs[i].Answer, b, b+3)
			}
			p.exs[i].Answer = a
		}
	}
}

var pubmedOptions = []string{"yes", "no", "maybe"}

// parsePubMedQA renders lm-eval's "Abstract: {contexts}\nQuestion: {q}"
// with the options yes/no/maybe.
func parsePubMedQA(r *rec) tasks.Example {
	ex := tasks.Example{Options: append([]string(nil), pubmedOptions...), Answer: -1}
	var q string
	var ctxs []string
	if r.has("QUESTION") || r.has("CONTEXTS") {
		q = r.str("QUESTION")
		ctxs = r.strList("CONTEXTS")
	} else {
		q = r.str("question")
		if v, ok := r.get("context"); ok {
			var c struct {
				Contexts json.RawMessage `json:"contexts"`
			}
			if json.Unmarshal(v, &c) == nil && c.Contexts != nil {
				ctxs = r.strListRaw("context.contexts", c.Contexts)
			} else if s := ""; json.Unmarshal(v, &s) == nil {
				ctxs = []string{s}
			} else {
				r.errf("context", "want {contexts: [...]} or a string, got %s", kind(v))
			}
		}
	}
	ex.Prompt = "Abstract: " + strings.Join(ctxs, "\n") + "\nQuestion: " + q
	d := strings.ToLower(strings.TrimSpace(r.str("final_decision")))
	for i, o := range pubmedOptions {
		if d == o {
			ex.Answer = i
		}
	}
	if ex.Answer < 0 && !r.bad {
		r.errf("final_decision", "want yes, no or maybe, got %q", d)
	}
	return ex
}
