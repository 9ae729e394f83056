package api

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bound is the contract of one numeric setting, the single rule the config
// file, the command-line flags, the TUI's knob form and SSH requests all
// check against: a finite number, whole if Int, within [Min, Max] (Min
// excluded if MinExclusive), where 0 may also mean "the default".
type Bound struct {
	Key          string // the setting's name, e.g. "lr" or "pipeline.pretrain_lr"
	Min, Max     float64
	MinExclusive bool
	Int          bool
	ZeroDefault  bool // 0 means "use the default" and is always accepted
}

// FieldError is a value that broke its Bound; Field names the setting as the
// caller knows it (a config key, a flag, a form label).
type FieldError struct {
	Field string
	Value string
	Why   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s = %s: %s", e.Field, e.Value, e.Why) }

// Check validates v against b. NaN and ±Inf are always errors.
func (b Bound) Check(v float64) error {
	bad := func(why string) error {
		return &FieldError{Field: b.Key, Value: strconv.FormatFloat(v, 'g', -1, 64), Why: why}
	}
	switch {
	case math.IsNaN(v):
		return bad("not a number")
	case math.IsInf(v, 0):
		return bad("must be finite")
	case v == 0 && b.ZeroDefault:
		return nil
	case b.Int && v != math.Trunc(v):
		return bad("must be a whole number")
	case v < b.Min || (b.MinExclusive && v == b.Min) || v > b.Max:
		return bad("must be " + b.Range())
	}
	return nil
}

// CheckInt is Check for an integer setting.
func (b Bound) CheckInt(v int64) error { return b.Check(float64(v)) }

// Range describes the accepted values, e.g. "in (0, 1]" or "1…256 (0 = default)".
func (b Bound) Range() string {
	var s string
	if b.Int {
		s = fmt.Sprintf("%s…%s", num(b.Min), num(b.Max))
		if b.MinExclusive {
			s = fmt.Sprintf("> %s and ≤ %s", num(b.Min), num(b.Max))
		}
	} else {
		open := "["
		if b.MinExclusive {
			open = "("
		}
		s = fmt.Sprintf("in %s%s, %s]", open, num(b.Min), num(b.Max))
	}
	if b.ZeroDefault {
		s += " (0 = default)"
	}
	return s
}

func num(v float64) string {
	// A power of two past a million reads better as one ("0…2^53").
	if e := math.Log2(v); v >= 1<<20 && e == math.Trunc(e) {
		return fmt.Sprintf("2^%d", int(e))
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e18 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Named returns b under another name (the same rule, as a config key or a flag).
func (b Bound) Named(key string) Bound { b.Key = key; return b }

// Strict returns b with 0 no longer meaning "default" (a config file's own
// values, which are the defaults).
func (b Bound) Strict() Bound { b.ZeroDefault = false; return b }

// The knobs' contract. A learning rate above 1 is never a useful Adam step on
// these models (it only diverges), so it is refused up front.
var (
	InnerStepsBound = Bound{Key: "inner_steps", Min: 1, Max: 10000, Int: true, ZeroDefault: true}
	LRBound         = Bound{Key: "lr", Min: 0, MinExclusive: true, Max: 1, ZeroDefault: true}
	RankBound       = Bound{Key: "rank", Min: 1, Max: 256, Int: true, ZeroDefault: true}
	SupportBound    = Bound{Key: "support", Min: 1, Max: 4096, Int: true, ZeroDefault: true}
	SeedBound       = Bound{Key: "seed", Min: 0, Max: 1 << 53, Int: true}
)

// Generation settings (`workbench generate`, chat).
var (
	TemperatureBound = Bound{Key: "temperature", Min: 0, MinExclusive: true, Max: 100}
	TopPBound        = Bound{Key: "top_p", Min: 0, MinExclusive: true, Max: 1}
	TopKBound        = Bound{Key: "top_k", Min: 1, Max: 1 << 20, Int: true, ZeroDefault: true} // 0 = off
	MaxNewBound      = Bound{Key: "max_new", Min: 0, Max: 1 << 16, Int: true}
)

// Validate checks every knob; the error names each bad field (joined).
func (k Knobs) Validate() error {
	return errors.Join(
		InnerStepsBound.CheckInt(int64(k.InnerSteps)),
		LRBound.Check(k.LR),
		RankBound.CheckInt(int64(k.Rank)),
		SupportBound.CheckInt(int64(k.Support)),
	)
}

// Validate checks the request's numbers: its seed and knobs.
func (r AdaptRequest) Validate() error {
	return errors.Join(SeedBound.CheckInt(r.Seed), r.Knobs.Validate())
}

// Rename rewrites the field names of the FieldErrors in err (a Validate
// result) with name, e.g. to show "--lr" on the command line or "Learning
// rate" in a form; other errors pass through.
func Rename(err error, name func(field string) string) error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) {
			c := *fe
			c.Field = name(fe.Field)
			out = append(out, c.Error())
			continue
		}
		out = append(out, e.Error())
	}
	return errors.New(strings.Join(out, "\n"))
}
