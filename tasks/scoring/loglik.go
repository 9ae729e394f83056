package scoring

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/degaml/workbench/tasks"
)

// Request is one log-likelihood query: score Continuation given Context.
// Norm is the text whose length acc_norm divides by (lm-eval's choice).
type Request struct {
	Context      string
	Continuation string
	Norm         string
}

// Requests builds one request per option, in option order:
//
//   - Lettered items (Continuation false): context = DnDPrompt() +
//     "\nAnswer:", continuation " A", " B", ... (lm-eval's MMLU style). All
//     continuations have the same length, so acc_norm equals acc.
//   - Continuation items (HellaSwag): context = Prompt, continuation =
//     " " + option (lm-eval's target_delimiter), Norm = option.
//   - Continuation items with Target set (WinoGrande, partial evaluation):
//     context = Prompt[:index of the first "_"] + option, continuation =
//     " " + Target; the shared suffix is what gets scored.
//
// Generation items (no options) give nil.
func Requests(e tasks.Example) []Request {
	if len(e.Options) == 0 {
		return nil
	}
	out := make([]Request, len(e.Options))
	switch {
	case e.Continuation && e.Target != "":
		prefix := e.Prompt
		if i := strings.Index(e.Prompt, "_"); i >= 0 {
			prefix = e.Prompt[:i]
		}
		for i, o := range e.Options {
			out[i] = Request{Context: prefix + o, Continuation: " " + e.Target, Norm: prefix + o}
		}
	case e.Continuation:
		for i, o := range e.Options {
			out[i] = Request{Context: e.Prompt, Continuation: " " + o, Norm: o}
		}
	default:
		ctx := e.DnDPrompt() + "\nAnswer:"
		for i := range e.Options {
			l := tasks.Letter(i)
			out[i] = Request{Context: ctx, Continuation: " " + l, Norm: l}
		}
	}
	return out
}

// NormLen is the length acc_norm divides by. lm-eval uses Python's
// len(choice): code points of the choice without the leading delimiter,
// which equals the byte length for ASCII text.
func NormLen(choice string) int { return utf8.RuneCountInString(choice) }

// NormLens applies NormLen to each request's Norm.
func NormLens(reqs []Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = NormLen(r.Norm)
	}
	return out
}

// SumLogProbs sums per-token log-probabilities per option.
func SumLogProbs(logprobs [][]float64) []float64 {
	out := make([]float64, len(logprobs))
	for i, lp := range logprobs {
		for _, v := range lp {
			out[i] += v
		}
	}
	return out
}

// Acc returns 1 when the highest summed log-probability is the answer.
func Acc(logprobs [][]float64, answer int) float64 {
	if PickLL(SumLogProbs(logprobs)) == answer && answer >= 0 {
		return 1
	}
	return 0
}

// PickLL is lm-eval's acc choice: argmax of the summed log-probabilities;
// ties go to the first option (numpy argmax); NaN never wins; -1 if empty.
func PickLL(sumLogProb []float64) int {
	best, bi := math.Inf(-1), -1
	for i, v := range sumLogProb {
		if math.IsNaN(v) {
			continue
		}
		if bi < 0 || v > best {
			best, bi = v, i
		}
	}
	return bi
}

// PickLLNorm is lm-eval's acc_norm choice: argmax of sum / length, with the
// lengths from NormLen (characters of the choice; bytes for ASCII). A
// length below 1 is treated as 1 rather than dividing by zero.
func PickLLNorm(sumLogProb []float64, contLens []int) int {
	norm := make([]float64, len(sumLogProb))
	for i, v := range sumLogProb {
		l := 1
		if i < len(contLens) && contLens[i] > 1 {
			l = contLens[i]
		}
		norm[i] = v / float64(l)
	}
	return PickLL(norm)
}
