package scoring

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/degaml/workbench/tasks"
)

func TestParseAnswer(t *testing.T) {
	cases := []struct {
		gen  string
		n    int
		tf   bool
		want int
	}{
		{"[B]", 4, false, 1},
		{"The answer is [C].", 4, false, 2},
		{"I think A, but [D] is right", 4, false, 3}, // brackets win over earlier letters
		{"[E] no, [B]", 4, false, 1},                 // out-of-range bracket skipped
		{"Answer: C", 4, false, 2},
		{"A good answer is B", 4, false, 0}, // the naive DnD fallback
		{"Because B.", 2, false, 1},
		{"ABC D", 4, false, 3}, // "ABC" is not a standalone letter
		{"b", 4, false, -1},    // lowercase letters are words, not options
		{"x_A B", 4, false, 1}, // '_' is a word rune
		{"nothing here", 4, false, -1},
		{"", 4, false, -1},
		{"[True]", 2, true, 0},
		{"[false]", 2, true, 1},
		{"[B]", 2, true, 1},
		{"It is false.", 2, true, 1},
		{"True, as said", 2, true, 0},
		{"[True]", 4, false, -1}, // not a TF item: True means nothing
		{"[A", 4, false, 0},      // unclosed bracket: the fallback sees A
		{"É A", 4, false, 0},
		{"[C]", 0, false, -1},
	}
	for _, c := range cases {
		if got := ParseAnswer(c.gen, c.n, c.tf); got != c.want {
			t.Errorf("ParseAnswer(%q, %d, %v) = %d, want %d", c.gen, c.n, c.tf, got, c.want)
		}
	}
}

func TestPickLL(t *testing.T) {
	if got := PickLL([]float64{-5, -2, -2, -9}); got != 1 {
		t.Errorf("PickLL tie: got %d want 1", got)
	}
	if got := PickLL([]float64{math.NaN(), -3}); got != 1 {
		t.Errorf("PickLL NaN: got %d", got)
	}
	if got := PickLL(nil); got != -1 {
		t.Errorf("PickLL empty: got %d", got)
	}
	// raw prefers the short option; per-character the long one wins.
	sum := []float64{-4, -6}
	lens := []int{2, 12}
	if PickLL(sum) != 0 || PickLLNorm(sum, lens) != 1 {
		t.Errorf("acc/acc_norm: %d %d", PickLL(sum), PickLLNorm(sum, lens))
	}
	if Acc([][]float64{{-1, -1}, {-0.5}}, 1) != 1 {
		t.Error("Acc")
	}
}

func TestRequests(t *testing.T) {
	lettered := tasks.Example{Prompt: "Q?", Options: []string{"x", "y"}, Answer: 1}
	r := Requests(lettered)
	if len(r) != 2 || r[0].Context != "Q?\nA: x\nB: y\nAnswer:" || r[1].Continuation != " B" {
		t.Errorf("lettered: %+v", r)
	}
	hs := tasks.Example{Prompt: "Ctx.", Options: []string{"ends é", "b"}, Continuation: true}
	r = Requests(hs)
	if r[0].Context != "Ctx." || r[0].Continuation != " ends é" || NormLens(r)[0] != 6 {
		t.Errorf("hellaswag: %+v %v", r, NormLens(r))
	}
	wg := tasks.Example{Prompt: "The cup fit in _ because it was big.", Options: []string{"the box", "the bag"},
		Target: "because it was big.", Continuation: true}
	r = Requests(wg)
	if r[1].Context != "The cup fit in the bag" || r[1].Continuation != " because it was big." {
		t.Errorf("winogrande: %+v", r)
	}
	if Requests(tasks.Example{Prompt: "q", Target: "4"}) != nil {
		t.Error("generation item should give nil")
	}
}

func TestECE(t *testing.T) {
	// Hand-computed with 2 bins (0,.5], (.5,1]:
	// item1 conf .9 right, item2 conf .8 wrong  -> bin 1: acc .5 conf .85 -> |.35|*2/4
	// item3 conf .4 right, item4 conf .5 wrong  -> bin 0: acc .5 conf .45 -> |.05|*2/4
	probs := [][]float64{{.9, .1}, {.2, .8}, {.4, .3, .3}, {.5, .5}}
	answers := []int{0, 0, 0, 1}
	want := 0.5*0.35 + 0.5*0.05
	if got := ECE(probs, answers, 2); math.Abs(got-want) > 1e-12 {
		t.Errorf("ECE = %v, want %v", got, want)
	}
	if ECE(nil, nil, 10) != 0 {
		t.Error("empty ECE")
	}
	// Perfect calibration in one bin.
	if got := ECE([][]float64{{1, 0}, {0, 1}}, []int{0, 1}, 10); got != 0 {
		t.Errorf("ECE perfect = %v", got)
	}
}

func TestWilson(t *testing.T) {
	// 8/10 at z=1.96: center (0.8+0.19208)/1.38416 = 0.716743, half 0.22849...
	lo, hi := Wilson(8, 10, 1.96)
	if math.Abs(lo-0.4902) > 1e-4 || math.Abs(hi-0.9433) > 1e-4 {
		t.Errorf("Wilson(8,10) = %v %v", lo, hi)
	}
	lo, hi = Wilson(0, 10, 1.96)
	if lo != 0 || math.Abs(hi-0.2775) > 1e-4 {
		t.Errorf("Wilson(0,10) = %v %v", lo, hi)
	}
	if lo, hi := Wilson(0, 0, 1.96); lo != 0 || hi != 1 {
		t.Errorf("Wilson n=0: %v %v", lo, hi)
	}
}

func TestMeanCI95(t *testing.T) {
	if TQuantile975(2) != 4.303 || TQuantile975(30) != 2.042 {
		t.Error("t table")
	}
	// t(0.975, 40) = 2.021, t(0.975, 120) = 1.980.
	if math.Abs(TQuantile975(40)-2.021) > 1e-3 || math.Abs(TQuantile975(120)-1.980) > 1e-3 {
		t.Errorf("t beyond table: %v %v", TQuantile975(40), TQuantile975(120))
	}
	// xs = 1,2,3: mean 2, s = 1, half = 4.303/sqrt(3) = 2.48434.
	m, h := MeanCI95([]float64{1, 2, 3})
	if m != 2 || math.Abs(h-4.303/math.Sqrt(3)) > 1e-12 {
		t.Errorf("MeanCI95 = %v ± %v", m, h)
	}
	if m, h := MeanCI95([]float64{5}); m != 5 || !math.IsNaN(h) {
		t.Errorf("n=1: %v %v", m, h)
	}
}

func mkExamples(n int) []tasks.Example {
	out := make([]tasks.Example, n)
	for i := range out {
		out[i] = tasks.Example{Prompt: string(rune('a' + i)), Options: []string{"x", "y"}, Answer: i % 2}
	}
	return out
}

func TestSampleEpisode(t *testing.T) {
	exs := mkExamples(10)
	rng := rand.New(rand.NewPCG(1, 2))
	s, q := SampleEpisode(rng, exs, 4, 5)
	if len(s) != 4 || len(q) != 5 {
		t.Fatalf("sizes %d %d", len(s), len(q))
	}
	seen := map[string]bool{}
	for _, e := range append(s, q...) {
		if seen[e.Prompt] {
			t.Fatalf("support and query overlap on %q", e.Prompt)
		}
		seen[e.Prompt] = true
	}
	s, q = SampleEpisode(rng, exs, 8, 8)
	if len(s) != 8 || len(q) != 2 {
		t.Errorf("clamped sizes %d %d", len(s), len(q))
	}
}

func TestPromptBatch(t *testing.T) {
	exs := mkExamples(3)
	b := PromptBatch(exs, 0, rand.New(rand.NewPCG(3, 4)))
	if len(b) != DefaultPromptBatch {
		t.Fatalf("len %d", len(b))
	}
	count := map[string]int{}
	for _, p := range b {
		count[p]++
	}
	// 128 = 42*3 + 2: each prompt appears 42 or 43 times.
	for p, c := range count {
		if c < 42 || c > 43 {
			t.Errorf("%q appears %d times", p, c)
		}
	}
	if b[0] != exs[0].DnDPrompt() && b[0] != exs[1].DnDPrompt() && b[0] != exs[2].DnDPrompt() {
		t.Error("not a DnD prompt")
	}
	if PromptBatch(nil, 5, nil) != nil {
		t.Error("empty input")
	}
}
