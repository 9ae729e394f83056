package loaders

import (
	"strings"

	"github.com/degaml/workbench/tasks"
)

// maxDnDOptions: the DnD/DeGAML files use at most eight options, A–H.
const maxDnDOptions = 8

func init() {
	register(&layout{
		name:  "dnd",
		doc:   `DnD/DeGAML records {"prompt": "question\nA: ...\nB: ...", "response": "[B]", "system": "..."}`,
		parse: parseDnD,
	})
}

// SplitDnDPrompt splits a DnD prompt into the question and its option
// texts: tasks.SplitDnD, the one reading of the format.
func SplitDnDPrompt(prompt string) (question string, options []string) { return tasks.SplitDnD(prompt) }

// parseDnD reads {"prompt","response","system"}. True/False items without
// option lines get the options ["True", "False"]; a response that is not a
// bracketed option on an item without options makes a generation item.
func parseDnD(r *rec) tasks.Example {
	prompt := r.str("prompt")
	resp := r.str("response")
	sys := r.optStr("system")
	q, opts := SplitDnDPrompt(prompt)
	ex := tasks.Example{Prompt: q, Options: opts, Answer: -1, System: sys}
	if len(opts) > maxDnDOptions {
		r.errf("prompt", "%d option lines (at most %d, A–H)", len(opts), maxDnDOptions)
		return ex
	}
	in := strings.TrimSpace(resp)
	inner, bracketed := strings.CutPrefix(in, "[")
	inner, closed := strings.CutSuffix(inner, "]")
	bracketed = bracketed && closed
	tf := -1
	if bracketed {
		switch strings.ToLower(inner) {
		case "true":
			tf = 0
		case "false":
			tf = 1
		}
	}
	switch {
	case len(opts) == 0 && tf >= 0:
		ex.Options = []string{"True", "False"}
		ex.Answer = tf
	case len(opts) == 0 && bracketed && len(inner) == 1 && inner[0] >= 'A' && inner[0] <= 'Z':
		r.errf("response", "%q names option %s but the prompt has no \"\\nA: \" option lines", resp, inner)
	case len(opts) == 0:
		// A free-form target (e.g. a number): a generation item.
		if in == "" {
			r.errf("response", "is empty")
		}
		ex.Target = in
	case tf >= 0:
		// "[True]" on an item whose options spell True/False.
		want := "true"
		if tf == 1 {
			want = "false"
		}
		for i, o := range opts {
			if strings.EqualFold(strings.TrimSpace(o), want) {
				ex.Answer = i
			}
		}
		if ex.Answer < 0 {
			r.errf("response", "%q but no option is %q", resp, inner)
		}
	case bracketed && len(inner) == 1 && inner[0] >= 'A' && inner[0] <= 'Z':
		i := int(inner[0] - 'A')
		if i >= len(opts) {
			r.errf("response", "answer %q out of range: the prompt has options A–%s", resp, tasks.Letter(len(opts)-1))
		}
		ex.Answer = i
	default:
		r.errf("response", "want a bracketed option letter like \"[B]\", got %q", resp)
	}
	return ex
}
