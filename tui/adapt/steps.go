package adapt

import (
	"fmt"
	"strings"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// stepLines renders a run's steps in order: for a decoupled run, one
// block per validation trial (the policy's top hypotheses, each run and
// scored on the validation split), headed by the hypothesis it tries and
// marked when chosen, so the table and the hypothesis card agree.
func stepLines(st *common.Styles, run *state.Run, w int) (string, []string) {
	// Narrow panes drop the ms column rather than cut every row.
	narrow := w < 44
	headFmt := fmt.Sprintf("%5s %-6s %8s %8s %6s %6s", "step", "phase", "support", "query", "acc", "ms")
	if narrow {
		headFmt = fmt.Sprintf("%4s %-6s %7s %7s %6s", "step", "phase", "support", "query", "acc")
	}
	head := st.Heading.Render(trunc(headFmt, w))
	if run != nil && len(run.Steps) == 0 && run.Done && run.Method == MethodGen {
		return head, []string{st.Muted.Render(wrapText("no steps: generalization-only is one forward pass of the generator", w))}
	}
	if run == nil || (len(run.Steps) == 0 && len(run.Hyps) == 0) {
		return head, []string{st.Muted.Render("no steps yet")}
	}
	row := func(r state.StepRow) string {
		line := fmt.Sprintf("%5d %-6s %8s %8s %6s %6.0f", r.Step, trunc(r.Phase, 6), num(r.Support, "%.4f"), num(r.Query, "%.4f"), num(r.Acc, "%.3f"), r.MS)
		if narrow {
			line = fmt.Sprintf("%4d %-6s %7s %7s %6s", r.Step, trunc(r.Phase, 6), num(r.Support, "%.4f"), num(r.Query, "%.4f"), num(r.Acc, "%.3f"))
		}
		return st.Base.Render(trunc(line, w))
	}
	var lines []string
	if len(run.Hyps) == 0 {
		for _, r := range run.Steps {
			lines = append(lines, row(r))
		}
		return head, lines
	}
	chosen := run.ChosenTrial()
	for t, h := range run.Hyps {
		if h.Family == "none" {
			continue // "keep the generated adapter": no trial of its own
		}
		mark := "validation trial"
		if t == chosen {
			mark = "validation trial, chosen"
		}
		title := fmt.Sprintf("── #%d %s %s · %s", t+1, FamilyLabel(h.Family), events.FormatParams(h.Params), mark)
		if h.Accuracy != nil {
			title += fmt.Sprintf(" · val acc %.3f", *h.Accuracy)
		}
		style := st.Muted
		if t == chosen {
			style = st.Accent
		}
		lines = append(lines, style.Render(trunc(title, w)))
		n := 0
		for _, r := range run.Steps {
			if r.Trial == t {
				lines = append(lines, row(r))
				n++
			}
		}
		if n == 0 {
			lines = append(lines, st.Muted.Render(trunc("   no gradient steps (one evaluation)", w)))
		}
	}
	if run.Chosen != nil && chosen >= 0 && run.Hyps[chosen].Family == "none" {
		lines = append(lines, st.Accent.Render(trunc("── no trial beat the generated adapter: it is kept", w)))
	}
	return head, lines
}

func num(v *float64, f string) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf(f, *v)
}

func trunc(s string, w int) string {
	r := []rune(s)
	if w <= 0 || len(r) <= w {
		return s
	}
	return string(r[:max(0, w-1)]) + "…"
}

// wrapText breaks s between words to width w.
func wrapText(s string, w int) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > w {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}
