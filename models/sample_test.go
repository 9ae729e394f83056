package models

import (
	"math"
	"testing"
)

func TestArgmax(t *testing.T) {
	if got := Argmax([]float32{1, 3, 3, -1}); got != 1 {
		t.Errorf("Argmax ties: got %d, want first max 1", got)
	}
	if got := Argmax([]float32{float32(math.NaN()), -5, -2}); got != 2 {
		t.Errorf("Argmax with NaN: got %d, want 2", got)
	}
}

func TestSamplerProbs(t *testing.T) {
	logits := []float32{0, float32(math.Log(2)), float32(math.Log(3)), float32(math.Log(4))} // softmax = 1,2,3,4 / 10
	near := func(got, want []float64) bool {
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				return false
			}
		}
		return true
	}
	s := NewSampler(1, 1, 0, 0)
	if p := s.Probs(logits); !near(p, []float64{.1, .2, .3, .4}) {
		t.Errorf("T=1: %v", p)
	}
	// T=0.5 squares the odds: 1,4,9,16 / 30.
	s = NewSampler(1, 0.5, 0, 0)
	if p := s.Probs(logits); !near(p, []float64{1. / 30, 4. / 30, 9. / 30, 16. / 30}) {
		t.Errorf("T=0.5: %v", p)
	}
	// top-k 2 keeps 3 and 4 → 3/7, 4/7.
	s = NewSampler(1, 1, 2, 0)
	if p := s.Probs(logits); !near(p, []float64{0, 0, 3. / 7, 4. / 7}) {
		t.Errorf("top-k 2: %v", p)
	}
	// top-p 0.7: 0.4 < 0.7, 0.4+0.3 = 0.7 reaches it → keep {4,3}.
	s = NewSampler(1, 1, 0, 0.65)
	if p := s.Probs(logits); !near(p, []float64{0, 0, 3. / 7, 4. / 7}) {
		t.Errorf("top-p 0.65: %v", p)
	}
	// top-p smaller than the top token keeps just it.
	s = NewSampler(1, 1, 0, 0.1)
	if p := s.Probs(logits); !near(p, []float64{0, 0, 0, 1}) {
		t.Errorf("top-p 0.1: %v", p)
	}
	// Greedy.
	s = NewSampler(1, 0, 0, 0)
	if p := s.Probs(logits); !near(p, []float64{0, 0, 0, 1}) || s.Sample(logits) != 3 {
		t.Errorf("greedy: %v", p)
	}
}

func TestSamplerSeededAndFrequencies(t *testing.T) {
	logits := []float32{0, float32(math.Log(2)), float32(math.Log(3)), float32(math.Log(4))}
	a, b := NewSampler(7, 1, 0, 0), NewSampler(7, 1, 0, 0)
	counts := make([]int, 4)
	const n = 40000
	for i := 0; i < n; i++ {
		x, y := a.Sample(logits), b.Sample(logits)
		if x != y {
			t.Fatalf("same seed diverged at draw %d", i)
		}
		counts[x]++
	}
	for i, c := range counts {
		want := float64(i+1) / 10
		// 5 standard deviations of a binomial proportion.
		if sd := math.Sqrt(want * (1 - want) / n); math.Abs(float64(c)/n-want) > 5*sd {
			t.Errorf("token %d frequency %.4f, want %.2f", i, float64(c)/n, want)
		}
	}
	// top-k 1 is greedy even with a temperature.
	c := NewSampler(3, 2, 1, 0)
	for i := 0; i < 100; i++ {
		if c.Sample(logits) != 3 {
			t.Fatal("top-k 1 sampled a non-max token")
		}
	}
}
