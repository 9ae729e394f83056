package adapt

import (
	"fmt"
	"strings"

	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// stepTable renders the newest rows of a run's steps that fit in h lines.
func stepTable(st *common.Styles, run *state.Run, w, h int) string {
	head := fmt.Sprintf("%5s %-6s %8s %8s %6s %7s", "step", "phase", "support", "query", "acc", "ms")
	var b strings.Builder
	b.WriteString(st.Heading.Render(trunc(head, w)) + "\n")
	if run != nil && len(run.Steps) == 0 && run.Done && run.Method == MethodGen {
		b.WriteString(st.Muted.Render("no steps: generalization-only is one forward pass of the generator"))
		return b.String()
	}
	if run == nil || len(run.Steps) == 0 {
		b.WriteString(st.Muted.Render("no steps yet"))
		return b.String()
	}
	rows := run.Steps
	if n := h - 1; n > 0 && len(rows) > n {
		rows = rows[len(rows)-n:]
	}
	for i, r := range rows {
		line := fmt.Sprintf("%5d %-6s %8s %8s %6s %7.0f", r.Step, trunc(r.Phase, 6), num(r.Support, "%.4f"), num(r.Query, "%.4f"), num(r.Acc, "%.3f"), r.MS)
		b.WriteString(st.Base.Render(trunc(line, w)))
		if i < len(rows)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
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
	return string(r[:w])
}
