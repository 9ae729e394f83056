package chat

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tui/common"
)

// OptionLabels returns the names of a multiple-choice prompt's options, one
// probability bar each (letters for "A: …" lines, the words of "… options
// a b"), or nil when the prompt is not one. The rule is tasks.ParseChoice,
// the one the engine's OptionProbs applies: the pane draws bars exactly for
// the prompts the engine scores.
func OptionLabels(prompt string) []string {
	ex, ok := tasks.ParseChoice(prompt)
	if !ok {
		return nil
	}
	return ex.Labels()
}

// maxLabel bounds a bar's label (a word option can be long).
const maxLabel = 12

// probBars renders one small bar per option: "A ██████░░░░ 0.62".
func probBars(st *common.Styles, labels []string, probs []float64, w int) string {
	lw := 1
	for _, l := range labels {
		lw = max(lw, min(maxLabel, ansi.StringWidth(l)))
	}
	barW := max(4, min(20, w-9-lw))
	best := 0
	for i, p := range probs {
		if p > probs[best] {
			best = i
		}
	}
	var b strings.Builder
	for i, l := range labels {
		if i >= len(probs) {
			break
		}
		p := min(1, max(0, probs[i]))
		full := int(p*float64(barW) + 0.5)
		bar := strings.Repeat("█", full) + strings.Repeat("░", barW-full)
		style := st.SeriesStyle(0)
		if i != best {
			style = st.Muted
		}
		l = ansi.Truncate(l, maxLabel, "…")
		fmt.Fprintf(&b, "%s%s %s %.2f", l, strings.Repeat(" ", lw-ansi.StringWidth(l)), style.Render(bar), p)
		if i < len(labels)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}
