package events

import (
	"math"
	"slices"
	"strings"
)

// JSONSafe returns e with every NaN or ±Inf number removed, so that the JSON
// encoder (which refuses them) never drops the event: a removed optional
// number becomes absent, a removed plain number zero, and NonFinite names
// each field that was removed ("support_loss", "result.accuracy", ...), so a
// reader still learns that the value was not finite.
func JSONSafe(e Event) Event {
	var bad []string
	fix := func(name string, p **float64) {
		if *p != nil && !finite(**p) {
			*p = nil
			bad = append(bad, name)
		}
	}
	fix("support_loss", &e.SupportLoss)
	fix("query_loss", &e.QueryLoss)
	fix("accuracy", &e.Accuracy)
	fix("lr", &e.LR)
	plain := func(name string, v *float64) {
		if !finite(*v) {
			*v = 0
			bad = append(bad, name)
		}
	}
	plain("ms", &e.MS)
	plain("tokens_per_s", &e.TokensPerS)
	plain("fraction", &e.Fraction)
	if e.Hyp != nil {
		e.Hyp = safeHyp("hypothesis", e.Hyp, &bad)
	}
	if e.Result != nil {
		r := *e.Result
		if !finite(r.Accuracy) {
			r.Accuracy = 0
			bad = append(bad, "result.accuracy")
		}
		if r.ECE != nil && !finite(*r.ECE) {
			r.ECE = nil
			bad = append(bad, "result.ece")
		}
		if !finite(r.WallS) {
			r.WallS = 0
			bad = append(bad, "result.wall_s")
		}
		if r.Chosen != nil {
			r.Chosen = safeHyp("result.chosen", r.Chosen, &bad)
		}
		e.Result = &r
	}
	if e.Adapt != nil && !finite(e.Adapt.LR) {
		a := *e.Adapt
		a.LR = 0
		e.Adapt = &a
		bad = append(bad, "adapt.lr")
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		if e.NonFinite != "" {
			bad = append([]string{e.NonFinite}, bad...)
		}
		e.NonFinite = strings.Join(bad, ",")
	}
	return e
}

func safeHyp(prefix string, h *HypothesisInfo, bad *[]string) *HypothesisInfo {
	c := *h
	if len(h.Params) > 0 {
		c.Params = make(map[string]float64, len(h.Params))
		for k, v := range h.Params {
			if !finite(v) {
				*bad = append(*bad, prefix+".params."+k)
				continue
			}
			c.Params[k] = v
		}
	}
	for name, p := range map[string]**float64{"accuracy": &c.Accuracy, "baseline": &c.Baseline, "reward": &c.Reward} {
		if *p != nil && !finite(**p) {
			*p = nil
			*bad = append(*bad, prefix+"."+name)
		}
	}
	return &c
}

// Finite reports whether every number of e is finite.
func Finite(e Event) bool { return JSONSafe(e).NonFinite == e.NonFinite }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
