package tui

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// handleMouse: a click on a tab focuses that pane; a click on the chat
// input focuses it; the wheel scrolls the active pane. Off unless enabled.
func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if !m.c.Config.Mouse {
		return nil
	}
	if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
		if msg.Y == 0 {
			if p, ok := m.tabAt(msg.X); ok {
				return m.Switch(p)
			}
			return nil
		}
		if m.active == PaneChat && msg.Y >= m.c.Height-2-6 {
			m.chat.FocusInput()
			return nil
		}
	}
	np, cmd := m.panes[m.active].Update(msg)
	m.panes[m.active] = np
	return cmd
}

// tabAt maps a column of the tab bar to its pane, using the same rendering
// as the tab bar so the two never disagree.
func (m *Model) tabAt(x int) (Pane, bool) {
	pos := lipgloss.Width(m.brand())
	for p := Pane(0); p < numPanes; p++ {
		w := lipgloss.Width(m.tab(p))
		if x >= pos && x < pos+w {
			return p, true
		}
		pos += w
	}
	return 0, false
}
