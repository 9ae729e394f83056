package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/tui/adapt"
	"github.com/degaml/workbench/tui/pipeline"
)

func (m *Model) brand() string { return m.c.Styles.Title.Render(" DeGAML ") }

func (m *Model) tab(p Pane) string {
	label := fmt.Sprintf("%d %s", int(p)+1, p.Title())
	if p == m.active {
		return m.c.Styles.TabActive.Render(label)
	}
	return m.c.Styles.TabInactive.Render(label)
}

func (m *Model) tabBar() string {
	var b strings.Builder
	b.WriteString(m.brand())
	for p := Pane(0); p < numPanes; p++ {
		b.WriteString(m.tab(p))
	}
	return b.String()
}

// statusLine is on every screen: task, mode, pipeline progress while it
// runs, and the newest warning or error.
func (m *Model) statusLine() string {
	st := m.c.Styles
	a := m.adapt
	parts := []string{}
	if a.Suite != "" {
		parts = append(parts, "Task: "+a.Suite)
	}
	parts = append(parts, "Mode: "+adapt.ModeLabel(a.Mode))
	if s, ok := m.c.Store.PipelineRunning(); ok {
		p := fmt.Sprintf("Pipeline: %s %.0f%%", s.Name, s.Fraction*100)
		if s.ETA > 0 {
			p += " ETA " + pipeline.FormatETA(s.ETA)
		}
		parts = append(parts, st.Accent.Render(p))
	}
	line := st.StatusBar.Render(strings.Join(parts, " · "))
	switch {
	case m.errLine != "":
		line += "  " + st.Bad.Render(m.errLine)
	case m.c.Store.Notice != "":
		if m.c.Store.NoticeBad {
			line += "  " + st.Bad.Render(m.c.Store.Notice)
		} else {
			line += "  " + st.Warn.Render(m.c.Store.Notice)
		}
	}
	return m.c.Renderer.NewStyle().MaxWidth(m.c.Width).Render(line)
}

// View draws tab bar, pane, status line and help, or the too-small screen.
func (m *Model) View() string {
	w, h := m.c.Width, m.c.Height
	if w == 0 || h == 0 {
		return ""
	}
	if w < MinWidth || h < MinHeight {
		return m.tooSmall()
	}
	bw, bh := m.bodySize()
	var body string
	if m.full {
		body = m.fullHelp()
	} else {
		body = m.panes[m.active].View()
	}
	r := m.c.Renderer
	// Panes wrap their own text; a line that still comes out too wide is
	// cut, not wrapped: wrapping would continue it at column 0, inside the
	// left column of a side-by-side pane.
	body = r.NewStyle().MaxWidth(bw).MaxHeight(bh).Render(body)
	body = r.NewStyle().Width(bw).Height(bh).MaxHeight(bh).Render(body)
	footer := m.help.ShortHelpView(append(m.panes[m.active].ShortHelp(), m.globalKeys()...))
	return lipgloss.JoinVertical(lipgloss.Left, m.tabBar(), body, "", m.statusLine(), footer)
}

func (m *Model) fullHelp() string {
	st := m.c.Styles
	k := m.c.Keys
	pane := m.help.FullHelpView(m.panes[m.active].FullHelp())
	global := m.help.FullHelpView([][]key.Binding{
		{k.NextPane, k.PrevPane, k.Back},
		{k.Tasks, k.Pipeline, k.Adapt, k.Chat, k.Results, k.Knobs},
		{k.Help, k.Quit, k.ForceQuit},
	})
	out := st.Title.Render("Help — "+m.active.Title()) + "\n\n" + pane + "\n\n" +
		st.Heading.Render("Everywhere") + "\n" + global
	note := st.Muted.Width(m.c.Width).Render("q, digits and ? type text while an input has focus; esc leaves the input. Press ? or esc to close.")
	if _, bh := m.bodySize(); lipgloss.Height(out)+1+lipgloss.Height(note) <= bh {
		out += "\n\n" + note
	}
	return out
}

func (m *Model) tooSmall() string {
	st := m.c.Styles
	msg := st.Heading.Render("Terminal too small") + "\n" +
		st.Muted.Render(fmt.Sprintf("need %d×%d, have %d×%d", MinWidth, MinHeight, m.c.Width, m.c.Height)) + "\n" +
		st.Muted.Render("enlarge the window, or press q to quit")
	return m.c.Renderer.Place(m.c.Width, m.c.Height, lipgloss.Center, lipgloss.Center, msg,
		lipgloss.WithWhitespaceChars(" "))
}
