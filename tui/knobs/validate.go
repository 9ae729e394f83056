package knobs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/degaml/workbench/core/api"
)

// field describes one form input: its label, hint and validator.
type field struct {
	Label, Hint string
	Check       func(string) error
}

// Each field checks against core/api's contract, the same rule the CLI, the
// config file and the engine apply, and its hint says that rule's range (a
// second, hand-written copy of the range drifted from it once).
var fields = []field{
	newField("Inner steps", api.InnerStepsBound, ""),
	newField("Learning rate", api.LRBound, "e.g. 1e-4"),
	newField("LoRA rank", api.RankBound, ""),
	newField("Support size", api.SupportBound, "k-shot"),
	newField("Seed", api.SeedBound, "same seed = same items"),
}

// newField is a form input checked by b. A bound where 0 means "default"
// also takes an empty input as the default (from workbench.toml).
func newField(label string, b api.Bound, note string) field {
	hint := b.Strict().Range()
	if note != "" {
		hint = note + ", " + hint
	}
	if b.ZeroDefault {
		hint += "; empty or 0 = default"
	}
	return field{Label: label, Hint: hint, Check: bounded(b, b.ZeroDefault)}
}

// bounded parses a field and checks it against b; empty means default when
// allowed.
func bounded(b api.Bound, emptyOK bool) func(string) error {
	return func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			if emptyOK {
				return nil
			}
			return errors.New("a whole number is required")
		}
		var v float64
		if b.Int {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return errors.New("not a whole number")
			}
			v = float64(n)
		} else {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return errors.New("not a number")
			}
			v = f
		}
		var fe *api.FieldError
		if err := b.Check(v); errors.As(err, &fe) {
			return errors.New(fe.Why)
		}
		return nil
	}
}

// Parse turns validated values into knobs and seed.
func Parse(vals []string) (api.Knobs, int64, error) {
	for i, f := range fields {
		if err := f.Check(vals[i]); err != nil {
			return api.Knobs{}, 0, fmt.Errorf("%s: %w", f.Label, err)
		}
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(strings.TrimSpace(s)); return n }
	lr, _ := strconv.ParseFloat(strings.TrimSpace(vals[1]), 64)
	seed, _ := strconv.ParseInt(strings.TrimSpace(vals[4]), 10, 64)
	return api.Knobs{InnerSteps: atoi(vals[0]), LR: lr, Rank: atoi(vals[2]), Support: atoi(vals[3])}, seed, nil
}

// Format is the inverse of Parse, for loading current values into the form.
func Format(k api.Knobs, seed int64) []string {
	s := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	lr := ""
	if k.LR != 0 {
		lr = strconv.FormatFloat(k.LR, 'g', -1, 64)
	}
	return []string{s(k.InnerSteps), lr, s(k.Rank), s(k.Support), strconv.FormatInt(seed, 10)}
}
