package train

import (
	"math"
	"testing"

	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
)

var wordExample = tasks.Example{Prompt: "wx : which material is magnetic ?", Options: []string{"iron", "wax", "tin"}, Answer: 2, WordAnswer: true}

func TestFormatWordAnswer(t *testing.T) {
	p, a := Format(wordExample)
	if p != "wx : which material is magnetic ? options iron wax tin answer" || a != " tin" {
		t.Errorf("Format = %q, %q", p, a)
	}
	u := wordExample
	u.Answer = -1
	if _, a := Format(u); a != "" {
		t.Errorf("unlabeled word item has answer %q", a)
	}
}

// With the word tokenizer every option is one token: next-token scoring.
func TestEncodeMCWordTokenizer(t *testing.T) {
	tok, err := tokenizer.NewWord([]string{"wx", ":", "which", "material", "is", "magnetic", "?", "options", "answer", "iron", "wax", "tin"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	it, err := EncodeMC(tok, wordExample)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Format(wordExample)
	if got := tok.Decode(intsOf(it.Prefix)); got != p || it.Conts != nil {
		t.Fatalf("prefix %q conts %v", got, it.Conts)
	}
	for i, id := range it.LetterIDs {
		if tok.TokenString(id) != wordExample.Options[i] {
			t.Errorf("option %d scored by token %q", i, tok.TokenString(id))
		}
	}
	seqs, from := EncodeTrain(tok, []tasks.Example{wordExample}, true)
	if from[0] != len(seqs[0])-1 || tok.TokenString(int(seqs[0][from[0]])) != "tin" {
		t.Errorf("answer-only loss from %d of %v", from[0], seqs[0])
	}
}

// With bytes an option word is several tokens: its score is the summed
// log-likelihood of its bytes (the lm-eval rule), checked against full logits.
func TestOptionProbsMultiTokenLogLikelihood(t *testing.T) {
	m := nanoModel(t)
	backend := testBackend(t)
	it, err := EncodeMC(m.Tokenizer, wordExample)
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Conts) != 3 {
		t.Fatalf("byte tokenizer: want a continuation per option, got %+v", it)
	}
	probs, err := OptionProbs(backend, m, nil, nil, []tasks.Example{wordExample})
	if err != nil {
		t.Fatal(err)
	}
	prefix, _ := Format(wordExample)
	lls := make([]float64, len(wordExample.Options))
	for i, o := range wordExample.Options {
		full := prefix + " " + o
		ids := make([]int32, len(full))
		for j := range full {
			ids[j] = int32(full[j])
		}
		lg := [][][]float32{fullLogits(t, backend, m, ids)}
		// Every token after the shared prefix (" " and the word's bytes; the
		// prefix ends in " answer", the shared part includes the space).
		for pos := len(it.Prefix); pos < len(ids); pos++ {
			row := lg[0][pos-1]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v) - mx)
			}
			lls[i] += float64(row[ids[pos]]) - mx - math.Log(z)
		}
	}
	var z float64
	for _, ll := range lls {
		z += math.Exp(ll)
	}
	for i := range lls {
		if want := math.Exp(lls[i]) / z; math.Abs(want-probs[0][i]) > 1e-4 {
			t.Errorf("option %d: %v, by hand %v", i, probs[0][i], want)
		}
	}
}
