package train

import (
	"fmt"
	"strings"

	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
)

// AnswerCue ends every scored prefix; the option letter is the next token.
const AnswerCue = "\nAnswer: ["

// Word-answer cues: a WordAnswer example reads "prompt options w1 w2 … answer" and its answer is " w"
// (the data model's text form, defined with its parser in tasks).
const (
	OptionsCue    = tasks.OptionsCue
	WordAnswerCue = tasks.WordAnswerCue
)

// Format renders ex in the workbench's text format (ARCHITECTURE.md "Text format and scoring"). Lettered
// items (the paper's DnD format, loaded benchmark files): prefix = [System + "\n"] + DnDPrompt() +
// "\nAnswer: [", answer = letter + "]". Word-answer items (the built-in suites, tasks.Example.WordAnswer):
// prefix = [System + " "] + Prompt + " options " + the option words + " answer", answer = " " + the right
// option's word. Examples without a known answer (Answer < 0 or out of range) get the answer "" (unlabeled
// TTT prompts).
func Format(ex tasks.Example) (prefix, answer string) {
	known := ex.Answer >= 0 && ex.Answer < len(ex.Options)
	if ex.WordAnswer {
		if ex.System != "" {
			prefix = ex.System + " "
		}
		prefix += ex.Prompt + OptionsCue + strings.Join(ex.Options, " ") + WordAnswerCue
		if known {
			answer = " " + ex.Options[ex.Answer]
		}
		return prefix, answer
	}
	if ex.System != "" {
		prefix = ex.System + "\n"
	}
	prefix += ex.DnDPrompt() + AnswerCue
	if known {
		answer = tasks.Letter(ex.Answer) + "]"
	}
	return prefix, answer
}

// optionText is what follows Format's prefix when option i is the answer.
func optionText(ex tasks.Example, i int) string {
	if ex.WordAnswer {
		return " " + ex.Options[i]
	}
	return tasks.Letter(i) + "]"
}

// MCItem is one multiple-choice example tokenized for scoring. When every option is one token after the
// shared Prefix (letters; option words of the word tokenizer), the option probabilities are the renormalized
// next-token probabilities of LetterIDs. Otherwise (word answers under a byte or BPE tokenizer) Conts holds
// each option's tokens after Prefix and an option's score is the summed log-likelihood of its tokens, the
// lm-eval multiple-choice rule; the probabilities are the softmax of those sums.
type MCItem struct {
	Prefix    []int32
	LetterIDs []int
	Conts     [][]int32
}

// lcp returns the length of the longest common prefix of a and b.
func lcp(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// EncodeMC tokenizes ex for option scoring. Where the letter lands is found by encoding the full text once
// per option and taking the longest common prefix: with the byte tokenizer this is simply the prefix bytes
// and the letter byte, but a BPE may merge "[A" into one token (Qwen2's pre-tokenizer glues punctuation to a
// following word), in which case the shared prefix stops before "[" and the distinguishing tokens are the
// merged "[A", "[B", ... — which is exactly how the same text is tokenized in training.
func EncodeMC(tok tokenizer.Tokenizer, ex tasks.Example) (MCItem, error) {
	if len(ex.Options) == 0 {
		return MCItem{}, fmt.Errorf("train: example has no options to score")
	}
	prefix, _ := Format(ex)
	full := make([][]int, len(ex.Options))
	common := tok.Encode(prefix)
	n := len(common)
	for i := range ex.Options {
		full[i] = tok.Encode(prefix + optionText(ex, i))
		n = min(n, lcp(common, full[i]))
	}
	for i := range full {
		for j := i + 1; j < len(full); j++ {
			n = min(n, lcp(full[i], full[j]))
		}
	}
	if n == 0 {
		return MCItem{}, fmt.Errorf("train: %s tokenizer leaves no common prefix before the option letter", tok.Name())
	}
	item := MCItem{Prefix: make([]int32, n), LetterIDs: make([]int, len(full))}
	for i, id := range full[0][:n] {
		item.Prefix[i] = int32(id)
	}
	if ex.WordAnswer && !singleTokenOptions(full, n) {
		item.LetterIDs = nil
		for i, f := range full {
			if len(f) <= n {
				return MCItem{}, fmt.Errorf("train: option %q adds no token after the prefix", ex.Options[i])
			}
			item.Conts = append(item.Conts, Int32s(f[n:]))
		}
		return item, nil
	}
	seen := map[int]bool{}
	for i, f := range full {
		if len(f) <= n {
			return MCItem{}, fmt.Errorf("train: option %s adds no token after the prefix", tasks.Letter(i))
		}
		id := f[n]
		if seen[id] {
			return MCItem{}, fmt.Errorf("train: options share the first answer token %d (%q)", id, tok.TokenString(id))
		}
		seen[id] = true
		item.LetterIDs[i] = id
	}
	return item, nil
}

// singleTokenOptions reports whether every option adds exactly one token after the n shared ones, and the
// options' tokens differ: then next-token scoring is exact.
func singleTokenOptions(full [][]int, n int) bool {
	seen := map[int]bool{}
	for _, f := range full {
		if len(f) != n+1 || seen[f[n]] {
			return false
		}
		seen[f[n]] = true
	}
	return true
}

// EncodeTrain tokenizes examples for training. With answerOnly the loss counts only the answer tokens
// (returned lossFrom = index of the first answer token); otherwise the whole text counts (lossFrom = 1, the
// first predictable position). Unlabeled examples always train on the whole text.
func EncodeTrain(tok tokenizer.Tokenizer, exs []tasks.Example, answerOnly bool) (seqs [][]int32, lossFrom []int) {
	seqs = make([][]int32, len(exs))
	lossFrom = make([]int, len(exs))
	for i, ex := range exs {
		prefix, answer := Format(ex)
		ids := tok.Encode(prefix + answer)
		// The answer starts where the encodings of prefix and prefix+answer diverge (BPE may merge "[A").
		from := 1
		if answerOnly && answer != "" {
			from = max(1, lcp(tok.Encode(prefix), ids))
		}
		seqs[i] = Int32s(ids)
		lossFrom[i] = from
	}
	return seqs, lossFrom
}

// Int32s converts tokenizer ids to the int32 rows batches and graphs take.
func Int32s(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, v := range ids {
		out[i] = int32(v)
	}
	return out
}
