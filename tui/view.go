package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/tui/adapt"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/pipeline"
)

func (m *Model) brand() string { return m.c.Styles.Title.Render(" DeGAML ") }

func (m *Model) tab(p Pane) string {
	label := fmt.Sprintf("%d %s", int(p)+1, p.Title())
	if p == m.active {
		// Brackets mark the active tab without colour (NO_COLOR, monochrome);
		// they take the padding's place so the tab bar does not shift.
		return m.c.Styles.TabActive.Padding(0).Render("[" + label + "]")
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
	sel := m.c.Store.Sel
	parts := []string{}
	if sel.Suite != "" {
		parts = append(parts, "Task: "+sel.Suite, fmt.Sprint("Seed: ", sel.Seed))
	}
	parts = append(parts, "Mode: "+adapt.ModeLabel(sel.Mode))
	if s, ok := m.c.Store.PipelineRunning(); ok {
		p := fmt.Sprintf("Pipeline: %s %.0f%%", s.Name, s.Fraction*100)
		if s.ETA > 0 {
			p += " ETA " + pipeline.FormatETA(s.ETA)
		}
		parts = append(parts, st.Accent.Render(p))
	}
	// Parts that do not fit are left out whole, never cut mid-word.
	var notice string
	switch {
	case m.errLine != "":
		notice = st.Bad.Render(m.errLine)
	case m.c.Store.Notice != "" && m.c.Store.NoticeBad:
		notice = st.Bad.Render(m.c.Store.Notice)
	case m.c.Store.Notice != "":
		notice = st.Warn.Render(m.c.Store.Notice)
	}
	line := ""
	for _, p := range parts {
		next := p
		if line != "" {
			next = line + st.StatusBar.Render(" · ") + p
		}
		if lipgloss.Width(next) > m.c.Width {
			break
		}
		line = next
	}
	line = st.StatusBar.Render(line)
	if notice != "" {
		if lipgloss.Width(line)+2+lipgloss.Width(notice) <= m.c.Width {
			line += "  " + notice
		} else {
			// The notice matters more than the labels: it gets its own line's
			// worth, wrapped words cut at the end with "…".
			line = common.Ellipsize(notice, m.c.Width)
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
	footer := m.footer()
	status := m.statusLine()
	if m.confirmQuit {
		s, _ := m.c.Store.PipelineRunning()
		status = common.Ellipsize(m.c.Styles.Warn.Bold(true).Render(fmt.Sprintf(
			"Quit while the pipeline trains (%s %.0f%%)? Training stops at a checkpoint and resumes next start. y/q: quit · any other key: stay",
			s.Name, s.Fraction*100)), m.c.Width)
	}
	return lipgloss.JoinVertical(lipgloss.Left, m.tabBar(), body, "", status, footer)
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

// footer is the short help: the pane's keys, then the global ones, with
// "? help" and "q quit" always kept at the end; keys that do not fit are
// dropped whole and marked with "…". (help.Model's own cut can overflow by
// a key when its ellipsis does not fit.)
func (m *Model) footer() string {
	k := m.c.Keys
	st := m.c.Styles.Help
	item := func(b key.Binding) string {
		return st.ShortKey.Inline(true).Render(b.Help().Key) + " " + st.ShortDesc.Inline(true).Render(b.Help().Desc)
	}
	sep := st.ShortSeparator.Inline(true).Render(" • ")
	tail := item(k.Help) + sep + item(k.Quit)
	if m.panes[m.active].CapturesKeys() {
		// q and ? are text now: name the keys that still leave.
		tail = item(k.Back) + sep + item(k.ForceQuit)
	}
	room := m.c.Width - lipgloss.Width(tail) - lipgloss.Width(sep)
	ell := st.Ellipsis.Inline(true).Render("…")
	var head string
	keys := append(m.panes[m.active].ShortHelp(), k.NextPane)
	// esc means "back" unless the pane has taken it (the baseline picker's
	// "esc/b close"): two helps for one key contradict each other.
	if !m.panes[m.active].CapturesKeys() && !bindsKey(keys, "esc") {
		keys = append(keys, k.Back)
	}
	for _, b := range keys {
		if !b.Enabled() {
			continue
		}
		next := item(b)
		if head != "" {
			next = head + sep + next
		}
		if lipgloss.Width(next)+2 > room {
			head += " " + ell
			break
		}
		head = next
	}
	if head == "" {
		return tail
	}
	return head + sep + tail
}

// bindsKey reports whether an enabled binding of bs answers to name.
func bindsKey(bs []key.Binding, name string) bool {
	for _, b := range bs {
		if b.Enabled() && slices.Contains(b.Keys(), name) {
			return true
		}
	}
	return false
}
