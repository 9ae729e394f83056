package knobs

import (
	"strings"
	"testing"
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
