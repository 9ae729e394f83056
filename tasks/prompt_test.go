package tasks

import (
	"slices"
	"testing"
)

func TestParseChoiceForms(t *testing.T) {
	for _, c := range []struct {
		name, in string
		q        string
		opts     []string
		word     bool
		labels   []string
	}{
		{"lines", "What is 2#3?\nA: 5\nB: 7\nC: 9", "What is 2#3?", []string{"5", "7", "9"}, false, []string{"A", "B", "C"}},
		{"lines, multi-line option", "Q\nA: one\nstill one\nB: two", "Q", []string{"one\nstill one", "two"}, false, []string{"A", "B"}},
		// A dialogue question keeps its own "A:" line: the options start at the last "\nA: ".
		{"dialogue", "Q: hi\nA: hello\nWhat next?\nA: bye\nB: stay", "Q: hi\nA: hello\nWhat next?", []string{"bye", "stay"}, false, []string{"A", "B"}},
		{"inline with cue", "wx : which material is magnetic ? options iron wax answer", "wx : which material is magnetic ?", []string{"iron", "wax"}, true, []string{"iron", "wax"}},
		{"inline without cue", "which is magnetic ? options iron wax tin", "which is magnetic ?", []string{"iron", "wax", "tin"}, true, []string{"iron", "wax", "tin"}},
		// The last " options " starts the list, so a question may say "options".
		{"inline, options in question", "two options here ? options a b", "two options here ?", []string{"a", "b"}, true, []string{"a", "b"}},
		// Both forms: the lines win (the letter form is the more explicit one).
		{"both", "pick options x y\nA: x\nB: y", "pick options x y", []string{"x", "y"}, false, []string{"A", "B"}},
	} {
		ex, ok := ParseChoice(c.in)
		if !ok {
			t.Errorf("%s: %q not read as multiple choice", c.name, c.in)
			continue
		}
		if ex.Prompt != c.q || !slices.Equal(ex.Options, c.opts) || ex.WordAnswer != c.word || ex.Answer != -1 {
			t.Errorf("%s: got %+v, want question %q options %q word %v answer -1", c.name, ex, c.q, c.opts, c.word)
		}
		if got := ex.Labels(); !slices.Equal(got, c.labels) {
			t.Errorf("%s: labels %q, want %q", c.name, got, c.labels)
		}
	}
}

func TestParseChoiceRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"hello there",
		"Q\nA: only one",
		"A: x\nB: y",        // no question line: "\nA: " never occurs
		"Q\n  A: x\n  B: y", // indented letters are text, not options
		"Q\nA:x\nB:y",       // the marker is "X: " with its space
		"Q\nB: x\nC: y",     // options start at A
		"Q options one",
		"Q options one answer",
		"Q options answer",
		"Q options",
	} {
		if ex, ok := ParseChoice(in); ok {
			t.Errorf("%q read as multiple choice: %+v", in, ex)
		}
	}
}

// ParseChoice reads back what the data model writes, in both forms.
func TestParseChoiceRoundTrip(t *testing.T) {
	ex := Example{Prompt: "Which?", Options: []string{"a b", "c", "d e f"}, Answer: -1}
	got, ok := ParseChoice(ex.DnDPrompt())
	if !ok || got.Prompt != ex.Prompt || !slices.Equal(got.Options, ex.Options) || got.WordAnswer {
		t.Fatalf("DnD round trip: %+v, %v", got, ok)
	}
	w := Example{Prompt: "wx : which ?", Options: []string{"iron", "wax"}, Answer: -1, WordAnswer: true}
	text := w.Prompt + OptionsCue + "iron wax" + WordAnswerCue
	got, ok = ParseChoice(text)
	if !ok || got.Prompt != w.Prompt || !slices.Equal(got.Options, w.Options) || !got.WordAnswer {
		t.Fatalf("word round trip of %q: %+v, %v", text, got, ok)
	}
}
