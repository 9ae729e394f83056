package knobs

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/api"
)

// Issue 12/13: `nan` was accepted as a learning rate, and rank 0 / seed -1
// went through. The form now refuses what core/api's contract refuses.
func TestFormRefusesWhatTheContractRefuses(t *testing.T) {
	bad := []struct {
		vals  []string
		label string
	}{
		{[]string{"", "nan", "", "", "1"}, "Learning rate"},
		{[]string{"", "NaN", "", "", "1"}, "Learning rate"},
		{[]string{"", "-1", "", "", "1"}, "Learning rate"},
		{[]string{"", "inf", "", "", "1"}, "Learning rate"},
		{[]string{"-5", "", "", "", "1"}, "Inner steps"},
		{[]string{"", "", "257", "", "1"}, "LoRA rank"},
		{[]string{"", "", "2.5", "", "1"}, "LoRA rank"},
		{[]string{"", "", "", "-1", "1"}, "Support size"},
		{[]string{"", "", "", "", "-1"}, "Seed"},
		{[]string{"", "", "", "", ""}, "Seed"},
	}
	for _, c := range bad {
		_, _, err := Parse(c.vals)
		if err == nil || !strings.HasPrefix(err.Error(), c.label+":") {
			t.Errorf("%q: %v, want an error naming %s", c.vals, err, c.label)
		}
	}
	k, seed, err := Parse([]string{"8", "1e-4", "", "16", "7"})
	if err != nil || k.InnerSteps != 8 || k.LR != 1e-4 || k.Support != 16 || seed != 7 {
		t.Fatalf("valid form: %+v %d %v", k, seed, err)
	}
}

// Each hint states the range its check enforces (the review found the rank
// hint saying "1-256" while another copy of the rule allowed 0): the edges
// the hint names are accepted, the values just past them refused.
func TestHintsStateTheContractRange(t *testing.T) {
	bounds := []api.Bound{api.InnerStepsBound, api.LRBound, api.RankBound, api.SupportBound, api.SeedBound}
	if len(bounds) != len(fields) {
		t.Fatalf("%d fields, %d bounds", len(fields), len(bounds))
	}
	for i, f := range fields {
		b := bounds[i]
		if !strings.Contains(f.Hint, b.Strict().Range()) {
			t.Errorf("%s: hint %q does not state the range %q", f.Label, f.Hint, b.Strict().Range())
		}
		num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		if err := f.Check(num(b.Max)); err != nil {
			t.Errorf("%s: the hint's maximum %s refused: %v", f.Label, num(b.Max), err)
		}
		above := math.Ceil(b.Max + max(1, b.Max/1e6)) // +1 is lost in a float64 at 2^53
		if err := f.Check(num(above)); err == nil {
			t.Errorf("%s: %s accepted past the hint's maximum", f.Label, num(above))
		}
		below := b.Min - 1
		if b.MinExclusive {
			below = b.Min
		}
		if below == 0 && b.ZeroDefault {
			below = -1 // 0 means "default" there
		}
		if err := f.Check(num(below)); err == nil {
			t.Errorf("%s: %s accepted below the hint's minimum", f.Label, num(below))
		}
		if got := f.Check("") == nil; got != b.ZeroDefault {
			t.Errorf("%s: empty accepted = %v, but the hint says default = %v", f.Label, got, b.ZeroDefault)
		}
		if b.ZeroDefault != strings.Contains(f.Hint, "empty or 0 = default") {
			t.Errorf("%s: hint %q disagrees on the default", f.Label, f.Hint)
		}
	}
}
