package chat

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/degaml/workbench/tui/common"
)

var optionLine = regexp.MustCompile(`^([A-Z]):\s*(.*)$`)

// ParseOptions returns the option letters of a multiple-choice prompt (lines
// "A: …", "B: …" in order from A), or nil when the prompt is not one.
func ParseOptions(prompt string) []string {
	var letters []string
	for _, l := range strings.Split(prompt, "\n") {
		m := optionLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		if want := string(rune('A' + len(letters))); m[1] != want {
			continue
		}
		letters = append(letters, m[1])
	}
	if len(letters) < 2 {
		return nil
	}
	return letters
}

// probBars renders one small bar per option: "A ██████░░░░ 0.62".
func probBars(st *common.Styles, letters []string, probs []float64, w int) string {
	barW := max(4, min(20, w-10))
	best := 0
	for i, p := range probs {
		if p > probs[best] {
			best = i
		}
	}
	var b strings.Builder
	for i, l := range letters {
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
		fmt.Fprintf(&b, "%s %s %.2f", l, style.Render(bar), p)
		if i < len(letters)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}
