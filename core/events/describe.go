package events

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Describe renders an event as one human line for a terminal or a log;
// permanent lines are milestones that stay on screen, the others (steps)
// are live status that the next line overwrites. Events with nothing to
// say give "".
func Describe(e Event) (line string, permanent bool) {
	switch e.Kind {
	case StageStarted:
		return fmt.Sprintf("▶ stage %s", e.Stage), true
	case StageFinished:
		if e.Message == StageInterrupted {
			return fmt.Sprintf("■ stage %s interrupted", e.Stage), true
		}
		if e.Message != "" {
			return fmt.Sprintf("✗ stage %s failed: %s", e.Stage, e.Message), true
		}
		if e.Cached {
			return fmt.Sprintf("✓ stage %s (cached)", e.Stage), true
		}
		return fmt.Sprintf("✓ stage %s", e.Stage), true
	case Step:
		// Stage, method and phase, each once: pretraining's method and
		// phase are both "pretrain", and the base stage has no method.
		var who []string
		for _, w := range []string{e.Stage, e.Method, e.Phase} {
			if w != "" && !slices.Contains(who, w) {
				who = append(who, w)
			}
		}
		s := fmt.Sprintf("  %s step %d/%d  loss %s", strings.Join(who, " "), e.Step, e.Total, fnum(e.SupportLoss))
		if e.QueryLoss != nil {
			s += "  query " + fnum(e.QueryLoss)
		}
		if e.Accuracy != nil {
			s += fmt.Sprintf("  acc %.1f%%", 100**e.Accuracy)
		}
		return s + fmt.Sprintf("  %.0f ms", e.MS), false
	case Hypothesis:
		if h := e.Hyp; h != nil && h.Chosen {
			return fmt.Sprintf("  chosen hypothesis: %s %s %s", h.Family, FormatParams(h.Params), h.Why), true
		}
	case Result:
		if r := e.Result; r != nil {
			s := fmt.Sprintf("result: %s on %s: accuracy %.1f%% (n=%d, %.1fs)", r.Method, r.Task, 100*r.Accuracy, r.N, r.WallS)
			if r.ECE != nil {
				s += fmt.Sprintf(", ECE %.3f", *r.ECE)
			}
			if r.Flag != "" {
				s += " [FLAGGED " + r.Flag + "]"
			}
			return s, true
		}
	case Warning:
		return "warning: " + e.Message, true
	case Error:
		return "error: " + e.Message, true
	}
	return "", false
}

// FormatParams renders hyperparameters sorted by name, "lr=1e-05 steps=20",
// as the TUI and the headless lines both show them.
func FormatParams(p map[string]float64) string {
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+"="+strconv.FormatFloat(p[k], 'g', -1, 64))
	}
	return strings.Join(parts, " ")
}

// fnum prints an optional loss, "—" when absent.
func fnum(x *float64) string {
	if x == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f", *x)
}
