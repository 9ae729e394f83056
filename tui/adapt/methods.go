package adapt

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// The two DeGAML modes the toggle switches between, and the base model.
const (
	MethodGen       = state.MethodGen
	MethodDecoupled = state.MethodDecoupled
	MethodBase      = state.MethodBase
)

// Baselines can be added to the chart from the method selector.
var Baselines = state.Baselines

// ModeLabel is the stable on-screen name of a mode ("Mode: decoupled").
func ModeLabel(method api.Method) string {
	if method == MethodGen {
		return "generalization-only"
	}
	return "decoupled"
}

// selector is the baseline checklist opened with "b".
type selector struct {
	open     bool
	cursor   int
	keys     selectorKeys
	firstRow int // pane row of the first item, as last drawn
}

type selectorKeys struct{ Up, Down, Toggle, Close key.Binding }

func newSelector() selector {
	return selector{keys: selectorKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Toggle: key.NewBinding(key.WithKeys(" ", "enter", "x"), key.WithHelp("space", "add/remove")),
		Close:  key.NewBinding(key.WithKeys("esc", "b"), key.WithHelp("esc/b", "close")),
	}}
}

func (s selector) view(st *common.Styles, shown map[api.Method]bool, w int) string {
	var b strings.Builder
	b.WriteString(st.Heading.Render("Baselines on the chart") + st.Muted.Render("  (same task, same seed)") + "\n")
	for i, m := range Baselines {
		box := "[ ] "
		if shown[m] {
			box = "[x] "
		}
		line := box + string(m)
		if i == s.cursor {
			line = st.Selected.Render("> " + line)
		} else {
			line = "  " + st.Base.Render(line)
		}
		b.WriteString(line + "\n")
	}
	return st.Card.Width(w - 2).Render(strings.TrimRight(b.String(), "\n"))
}
