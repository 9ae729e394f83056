// Package picker is the task picker: the suites grouped in-domain,
// out-of-domain and user files, with fuzzy filtering and a preview.
package picker

import (
	"sort"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
)

// Model is the picker pane.
type Model struct {
	c      *common.Common
	list   list.Model
	choose key.Binding
	w, h   int
}

// New lists the engine's suites.
func New(c *common.Common) *Model {
	suites := append([]api.SuiteInfo(nil), c.Engine.Suites()...)
	sort.SliceStable(suites, func(i, j int) bool { return groupRank(suites[i].Role) < groupRank(suites[j].Role) })
	items := make([]list.Item, len(suites))
	for i, s := range suites {
		items[i] = item{s}
	}
	l := list.New(items, newDelegate(c.Styles), 0, 0)
	l.Title = "Tasks"
	l.SetShowHelp(false)
	l.SetStatusBarItemName("suite", "suites")
	l.DisableQuitKeybindings() // quitting is the root's job
	c.Styles.StyleList(&l)
	return &Model{c: c, list: l,
		choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "adapt to task"))}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize splits the pane: list on the left, preview on the right.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.list.SetSize(m.listWidth(), h)
}

func (m *Model) listWidth() int {
	lw := m.w * 2 / 5
	if lw < 28 {
		lw = min(28, m.w)
	}
	return lw
}

// Selected returns the highlighted suite.
func (m *Model) Selected() (api.SuiteInfo, bool) {
	it, ok := m.list.SelectedItem().(item)
	return it.s, ok
}

// CapturesKeys is true while the user types a filter.
func (m *Model) CapturesKeys() bool { return m.list.FilterState() == list.Filtering }

// Focus implements common.Component.
func (m *Model) Focus() {}

// Blur implements common.Component.
func (m *Model) Blur() {}

// Update handles list navigation and enter.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && !m.CapturesKeys() && key.Matches(k, m.choose) {
		if s, ok := m.Selected(); ok {
			return m, func() tea.Msg { return common.SuiteSelectedMsg{Suite: s.Name} }
		}
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

// View renders list and preview side by side.
func (m *Model) View() string {
	lw := m.listWidth()
	left := m.list.View()
	s, ok := m.Selected()
	if !ok || m.w-lw < 20 {
		return left
	}
	pw := m.w - lw - 2
	// The preview shows the instance the selected seed adapts to, as the
	// engine names it: the same world as the dashboard and `tasks show`.
	var world *api.World
	if w, ok := m.c.Store.World(m.c.Engine, s.Name, m.c.Store.Sel.Seed); ok {
		s.Hidden, s.Example, world = w.Hidden, w.Example, &w
	}
	right := preview(m.c.Styles, s, world, pw, m.h)
	return lipgloss.JoinHorizontal(lipgloss.Top,
		m.c.Renderer.NewStyle().Width(lw).Render(left), "  ", right)
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.choose, m.list.KeyMap.Filter, m.list.KeyMap.CursorUp, m.list.KeyMap.CursorDown}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.list.KeyMap
	return [][]key.Binding{{m.choose, k.Filter, k.ClearFilter}, {k.CursorUp, k.CursorDown, k.NextPage, k.PrevPage}}
}

// Filtering reports a filter being typed or applied (esc clears it).
func (m *Model) Filtering() bool { return m.list.FilterState() != list.Unfiltered }
