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

var fields = []field{
	{"Inner steps", "0 = default from workbench.toml", intIn(0, 10000)},
	{"Learning rate", "e.g. 1e-4; empty = default", floatIn(0, 1)},
	{"LoRA rank", "1-256; empty = default", intIn(0, 256)},
	{"Support size", "k-shot examples; empty = default", intIn(0, 4096)},
	{"Seed", "same seed = same items", seedCheck},
}

func intIn(lo, hi int) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a whole number")
		}
		if n < lo || n > hi {
			return fmt.Errorf("must be %d…%d", lo, hi)
		}
		return nil
	}
}

func floatIn(lo, hi float64) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return errors.New("not a number")
		}
		if f < lo || f >= hi {
			return fmt.Errorf("must be ≥ %g and < %g", lo, hi)
		}
		return nil
	}
}

func seedCheck(s string) error {
	if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
		return errors.New("a whole number is required")
	}
	return nil
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
