// Package picker is the task picker: the suites grouped in-domain,
// out-of-domain and user files, with fuzzy filtering and a preview.
package picker

import (
	"sort"
	"strings"

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
	l.Filter = wordFilter
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

// listTop is the rows above the first item: the title bar and the status
// bar, each with its padding line.
const listTop = 4

// Update handles list navigation, enter, clicks and the wheel.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	if mm, ok := msg.(tea.MouseMsg); ok {
		return m, m.mouse(mm)
	}
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

// mouse: the wheel moves the selection; a click selects the task under
// the pointer, and a click on the selected task adapts to it (as enter).
// Mouse rows are the screen's: the pane starts below the tab bar.
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	switch {
	case msg.Button == tea.MouseButtonWheelUp:
		m.list.CursorUp()
	case msg.Button == tea.MouseButtonWheelDown:
		m.list.CursorDown()
	case msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft:
		if msg.X >= m.listWidth() || m.CapturesKeys() {
			return nil
		}
		row := msg.Y - 1 - listTop
		if row < 0 {
			return nil
		}
		h := newDelegateHeight
		i := m.list.Paginator.Page*m.list.Paginator.PerPage + row/h
		if i >= len(m.list.VisibleItems()) {
			return nil
		}
		if i == m.list.Index() {
			if s, ok := m.Selected(); ok {
				return func() tea.Msg { return common.SuiteSelectedMsg{Suite: s.Name} }
			}
		}
		m.list.Select(i)
	}
	return nil
}

// newDelegateHeight is an item's height in rows (heading, title, description).
var newDelegateHeight = delegate{DefaultDelegate: list.NewDefaultDelegate()}.Height()

// wordFilter matches the typed text as the start of a word of the name,
// domain or role (words split at spaces and dashes; case-insensitive), not
// as a fuzzy subsequence: "/ma" finds the math suites, not every suite
// whose role "in-domain" holds an m and an a. Name matches come first.
func wordFilter(term string, targets []string) []list.Rank {
	term = strings.ToLower(strings.TrimSpace(term))
	var name, other []list.Rank
	for i, t := range targets {
		lt := strings.ToLower(t)
		nameEnd := strings.IndexByte(lt, ' ')
		if nameEnd < 0 {
			nameEnd = len(lt)
		}
		for j := 0; j < len(lt); j++ {
			if (j > 0 && lt[j-1] != ' ' && lt[j-1] != '-') || !strings.HasPrefix(lt[j:], term) {
				continue
			}
			// Byte offsets are rune offsets: names, domains and roles are ASCII.
			idx := make([]int, len(term))
			for k := range idx {
				idx[k] = j + k
			}
			r := list.Rank{Index: i, MatchedIndexes: idx}
			if j < nameEnd {
				name = append(name, r)
			} else {
				other = append(other, r)
			}
			break
		}
	}
	return append(name, other...)
}
