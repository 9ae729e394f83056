// Package knobs is the form that overrides the adaptation budget (inner
// steps, learning rate, LoRA rank, support size) and the seed, validated as
// you type, and re-runs the dashboard's methods on submit.
package knobs

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
)

// Current reports the values in effect, loaded when the form gains focus.
type Current func() (api.Knobs, int64)

// Model is the knobs form.
type Model struct {
	c       *common.Common
	current Current
	inputs  []textinput.Model
	errs    []string
	focus   int
	focused bool
	formErr string
	w, h    int
	keys    struct{ Up, Down, Apply, Reset key.Binding }
}

// New returns the form.
func New(c *common.Common, cur Current) *Model {
	m := &Model{c: c, current: cur, errs: make([]string, len(fields))}
	for range fields {
		ti := textinput.New()
		ti.Prompt = ""
		ti.Width = 16
		ti.CharLimit = 24
		c.Styles.StyleTextInput(&ti)
		m.inputs = append(m.inputs, ti)
	}
	m.keys.Up = key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "prev field"))
	m.keys.Down = key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "next field"))
	m.keys.Apply = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply & re-run"))
	m.keys.Reset = key.NewBinding(key.WithKeys("ctrl+x"), key.WithHelp("ctrl+x", "defaults"))
	m.load()
	return m
}

func (m *Model) load() {
	k, seed := m.current()
	for i, v := range Format(k, seed) {
		m.inputs[i].SetValue(v)
		m.errs[i] = ""
	}
	m.formErr = ""
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// CapturesKeys: the focused field takes printable keys.
func (m *Model) CapturesKeys() bool { return m.focused }

// Focus loads the values in effect and focuses the first field.
func (m *Model) Focus() {
	m.load()
	m.focused = true
	m.setFocus(m.focus)
}

// Blur implements common.Component.
func (m *Model) Blur() {
	m.focused = false
	for i := range m.inputs {
		m.inputs[i].Blur()
	}
}

func (m *Model) setFocus(i int) {
	m.focus = (i + len(m.inputs)) % len(m.inputs)
	for j := range m.inputs {
		if j == m.focus {
			m.inputs[j].Focus()
		} else {
			m.inputs[j].Blur()
		}
	}
}

// Values returns the raw field values.
func (m *Model) Values() []string {
	v := make([]string, len(m.inputs))
	for i := range m.inputs {
		v[i] = m.inputs[i].Value()
	}
	return v
}

// Update handles field navigation, typing and submit.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	if !m.focused { // after esc: arrows or enter take the form back
		if key.Matches(k, m.keys.Up, m.keys.Down, m.keys.Apply) {
			m.focused = true
			m.setFocus(m.focus)
		}
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Up):
		m.setFocus(m.focus - 1)
		return m, nil
	case key.Matches(k, m.keys.Down):
		m.setFocus(m.focus + 1)
		return m, nil
	case key.Matches(k, m.keys.Reset):
		_, seed := m.current()
		for i, v := range Format(api.Knobs{}, seed) {
			m.inputs[i].SetValue(v)
		}
		return m, nil
	case key.Matches(k, m.keys.Apply):
		knobs, seed, err := Parse(m.Values())
		if err != nil {
			m.formErr = err.Error()
			return m, nil
		}
		m.formErr = ""
		return m, func() tea.Msg { return common.KnobsAppliedMsg{Seed: seed, Knobs: knobs} }
	}
	var cmd tea.Cmd
	m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg)
	m.errs[m.focus] = ""
	if err := fields[m.focus].Check(m.inputs[m.focus].Value()); err != nil {
		m.errs[m.focus] = err.Error()
	}
	return m, cmd
}

// View renders the form.
func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(common.Hang(st.Title.Render("Knobs")+"  ", "override the adaptation budget; enter re-runs the shown methods", st.Muted, m.w) + "\n\n")
	for i, f := range fields {
		marker := "  "
		label := st.Label.Render(pad(f.Label, 15))
		if m.focused && i == m.focus {
			marker = st.Accent.Render("> ")
			label = st.Value.Render(pad(f.Label, 15))
		}
		prefix := marker + label + "[" + m.inputs[i].View() + "]  "
		if m.errs[i] != "" {
			b.WriteString(common.Hang(prefix, "✗ "+m.errs[i], st.Bad, m.w))
		} else {
			b.WriteString(common.Hang(prefix, f.Hint, st.Muted, m.w))
		}
		b.WriteString("\n")
	}
	if m.formErr != "" {
		b.WriteString("\n" + st.Bad.Width(m.w).Render(m.formErr) + "\n")
	}
	out := b.String()
	if note := st.Muted.Width(m.w).Render(scopeNote); m.h <= 0 || lipgloss.Height(out)+lipgloss.Height(note) <= m.h {
		out += "\n" + note
	}
	return out
}

// scopeNote says which methods each knob reaches, as the engine applies
// them (core/pipeline withKnobs): DeGAML's policy picks its own steps and
// learning rate per hypothesis.
const scopeNote = "Inner steps reach nometa-lora, maml-en-llm and abmll; learning rate and LoRA rank " +
	"nometa-lora only; support size every method. DeGAML's policy picks its own steps and learning rate."

func pad(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Up, m.keys.Down, m.keys.Apply, m.keys.Reset}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
