package api

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestKnobsValidate(t *testing.T) {
	ok := []Knobs{{}, {InnerSteps: 8, LR: 1e-2, Rank: 4, Support: 16}, {LR: 1}, {Rank: 256}}
	for _, k := range ok {
		if err := k.Validate(); err != nil {
			t.Errorf("%+v: %v", k, err)
		}
	}
	bad := []struct {
		k     Knobs
		field string
	}{
		{Knobs{LR: math.NaN()}, "lr"},
		{Knobs{LR: -1}, "lr"},
		{Knobs{LR: math.Inf(1)}, "lr"},
		{Knobs{LR: 1e9}, "lr"},
		{Knobs{InnerSteps: -10}, "inner_steps"},
		{Knobs{Rank: -1}, "rank"},
		{Knobs{Rank: 10000}, "rank"},
		{Knobs{Support: -3}, "support"},
	}
	for _, c := range bad {
		err := c.k.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: error %v, want a FieldError naming %s", c.k, err, c.field)
		}
	}
	if err := (AdaptRequest{Seed: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("seed -1: %v", err)
	}
}

func TestBoundMessagesAndRename(t *testing.T) {
	err := Knobs{LR: math.NaN(), Rank: -2}.Validate()
	msg := Rename(err, func(f string) string { return "--" + f }).Error()
	for _, want := range []string{"--lr = NaN: not a number", "--rank = -2: must be 1…256 (0 = default)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if got := TopPBound.Check(0); got == nil || !strings.Contains(got.Error(), "in (0, 1]") {
		t.Errorf("top_p 0: %v", got)
	}
	if got := SeedBound.Range(); got != "0…2^53" {
		t.Errorf("seed range %q", got)
	}
	if got := SupportBound.Range(); got != "1…4096 (0 = default)" {
		t.Errorf("support range %q", got)
	}
	if err := InnerStepsBound.Check(2.5); err == nil || !strings.Contains(err.Error(), "whole") {
		t.Errorf("2.5 steps: %v", err)
	}
}
