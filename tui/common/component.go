package common

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/core/api"
)

// Component is one pane: a tea.Model that also sizes itself, tells the root
// whether it is swallowing printable keys (a focused text input), and
// contributes its keys to the help footer.
type Component interface {
	help.KeyMap
	Init() tea.Cmd
	Update(tea.Msg) (Component, tea.Cmd)
	View() string
	SetSize(w, h int)
	// CapturesKeys reports that printable keys (q, digits, ?) belong to the
	// component right now, e.g. the chat input or an active list filter.
	CapturesKeys() bool
	Focus()
	Blur()
}

// Messages shared between components; the root routes them.

// SuiteSelectedMsg: the user picked a task suite in the picker.
type SuiteSelectedMsg struct{ Suite string }

// KnobsAppliedMsg: the knobs form was submitted; re-run with these.
type KnobsAppliedMsg struct {
	Seed  int64
	Knobs api.Knobs
}

// ErrMsg reports an engine call that failed; shown in the status line.
type ErrMsg struct{ Err error }

// SwitchPaneMsg asks the root to show another pane.
type SwitchPaneMsg struct{ Pane int }
