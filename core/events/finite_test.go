package events

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// A NaN result made json.Encoder fail and the event vanish from `run --json`
// and the run log (issue 13). JSONSafe keeps the event and names the field.
func TestJSONSafeKeepsNonFiniteEvents(t *testing.T) {
	nan := math.NaN()
	e := Event{Kind: Result, SupportLoss: F(math.Inf(1)), Accuracy: F(0.5),
		Result: &ResultInfo{Method: "m", Accuracy: nan, ECE: F(nan)},
		Hyp:    &HypothesisInfo{Family: "ttt", Params: map[string]float64{"lr": nan, "steps": 3}},
		Adapt:  &AdaptInfo{Method: "m", LR: nan, Support: 16}}
	if _, err := json.Marshal(e); err == nil {
		t.Fatal("the encoder accepted NaN: the premise of this test is gone")
	}
	s := JSONSafe(e)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("JSONSafe output still unencodable: %v", err)
	}
	for _, want := range []string{"support_loss", "result.accuracy", "result.ece", "hypothesis.params.lr", "adapt.lr"} {
		if !strings.Contains(s.NonFinite, want) {
			t.Errorf("NonFinite %q lacks %s", s.NonFinite, want)
		}
	}
	if s.Accuracy == nil || *s.Accuracy != 0.5 || s.Hyp.Params["steps"] != 3 {
		t.Errorf("finite values changed: %s", b)
	}
	if s.Adapt.Support != 16 {
		t.Errorf("adapt info lost its finite fields: %+v", s.Adapt)
	}
	if !math.IsNaN(e.Result.Accuracy) || !math.IsNaN(e.Hyp.Params["lr"]) || !math.IsNaN(e.Adapt.LR) {
		t.Error("JSONSafe modified its argument")
	}
	if Finite(e) || !Finite(s) {
		t.Errorf("Finite(e)=%v Finite(safe)=%v", Finite(e), Finite(s))
	}
}
