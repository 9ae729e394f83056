package common

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the global key map. Component-specific keys live with their
// component and are merged into the help by the root model.
type KeyMap struct {
	Quit, ForceQuit, Help        key.Binding
	NextPane, PrevPane, Back     key.Binding
	Tasks, Pipeline, Adapt, Chat key.Binding
	Results, Knobs               key.Binding
}

// DefaultKeyMap returns the default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextPane:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane:  key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev pane")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Tasks:     key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "tasks")),
		Pipeline:  key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "pipeline")),
		Adapt:     key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "adapt")),
		Chat:      key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "chat")),
		Results:   key.NewBinding(key.WithKeys("5"), key.WithHelp("5", "results")),
		Knobs:     key.NewBinding(key.WithKeys("6"), key.WithHelp("6", "knobs")),
	}
}
