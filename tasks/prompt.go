package tasks

import "strings"

// The text forms of a multiple-choice item. They are the data model's (what
// Example renders to and is read back from), so the loaders, the engine's
// training format and what a person types into the chat all share them.
const (
	// OptionsCue introduces the option words of a word-answer item:
	// "question options w1 w2 … answer".
	OptionsCue = " options "
	// WordAnswerCue ends a word-answer item's prompt; the answer is " w".
	WordAnswerCue = " answer"
)

// SplitDnD splits a DnD prompt ("question\nA: opt\nB: opt", what
// Example.DnDPrompt writes) into the question and its option texts. Options
// are the "\nX: " lines, A first, in letter order; the option block starts
// at the LAST "\nA: " so that a dialogue-style question ("Q: ...\nA: ...")
// stays in the question. Each option runs to the next letter's marker; the
// last one runs to the end. It returns no options when there is no "\nA: "
// line or no "\nB: " after it.
func SplitDnD(prompt string) (question string, options []string) {
	a := strings.LastIndex(prompt, "\nA: ")
	if a < 0 {
		return prompt, nil
	}
	pos := a + len("\nA: ")
	var opts []string
	for k := 1; k < 26; k++ {
		marker := "\n" + Letter(k) + ": "
		j := strings.Index(prompt[pos:], marker)
		if j < 0 {
			break
		}
		opts = append(opts, strings.TrimSpace(prompt[pos:pos+j]))
		pos += j + len(marker)
	}
	if len(opts) == 0 {
		return prompt, nil
	}
	opts = append(opts, strings.TrimSpace(prompt[pos:]))
	return prompt[:a], opts
}

// ParseChoice reads a multiple-choice question as a person types it, in
// either form the workbench's models learn from:
//
//   - DnD lines, "question\nA: first\nB: second" (see SplitDnD), answered by
//     the option's letter;
//   - inline words, "question options first second" with an optional
//     closing "answer" (the built-in word world's form), answered by the
//     option word itself (WordAnswer).
//
// The lines form wins when both match. The example has Answer -1 (the
// answer is what is asked). ok is false unless the text is one of the two
// forms with at least two options: this is the one rule for "is this a
// multiple-choice prompt", used by the engine that scores the options and
// by the chat pane that draws a bar per option.
func ParseChoice(prompt string) (ex Example, ok bool) {
	if q, opts := SplitDnD(prompt); len(opts) >= 2 {
		return Example{Prompt: q, Options: opts, Answer: -1}, true
	}
	i := strings.LastIndex(prompt, OptionsCue)
	if i < 0 {
		return Example{}, false
	}
	words := strings.Fields(prompt[i+len(OptionsCue):])
	if n := len(words); n > 0 && words[n-1] == strings.TrimSpace(WordAnswerCue) {
		words = words[:n-1]
	}
	if len(words) < 2 {
		return Example{}, false
	}
	return Example{Prompt: prompt[:i], Options: words, Answer: -1, WordAnswer: true}, true
}

// Labels are the names of ex's options as a reader refers to them: the
// letters of a lettered item ("A", "B", …), the words of a word-answer one.
func (e Example) Labels() []string {
	if e.WordAnswer {
		return append([]string(nil), e.Options...)
	}
	out := make([]string, len(e.Options))
	for i := range out {
		out[i] = Letter(i)
	}
	return out
}
