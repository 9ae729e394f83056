package chat

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

func repeat(s string, n int) string { return strings.Repeat(s, max(0, n)) }

// transcript renders every exchange; compare answers go side by side.
func (m *Model) transcript() string {
	st := m.c.Styles
	if len(m.entries) == 0 {
		return st.Muted.Render("No messages yet. The answer comes from the adapter of the current task and mode (see Adapt).")
	}
	var parts []string
	for _, e := range m.entries {
		parts = append(parts, st.Heading.Render("You")+"\n"+st.Base.Width(m.w).Render(e.Prompt))
		colW := m.w
		if len(e.Answers) > 1 {
			colW = (m.w - 2) / len(e.Answers)
		}
		var cols []string
		for _, a := range e.Answers {
			cols = append(cols, m.renderAnswer(a, e.Letters, colW))
		}
		if len(cols) > 1 {
			parts = append(parts, lipgloss.JoinHorizontal(lipgloss.Top, cols[0], "  ", cols[1]))
		} else if len(cols) == 1 {
			parts = append(parts, cols[0])
		}
	}
	return strings.Join(parts, "\n\n")
}

func (m *Model) renderAnswer(a *answer, letters []string, w int) string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(st.Accent.Bold(true).Width(w).Render(a.Label) + "\n")
	switch s := m.c.Store.Streams[a.Stream]; {
	case a.Note != "":
		b.WriteString(st.Warn.Width(w).Render(a.Note))
	case s == nil:
		b.WriteString(st.Muted.Render("…"))
	default:
		text := s.Text
		if !s.Done {
			text += "▌"
		}
		b.WriteString(st.Base.Width(w).Render(text))
		if s.Err != "" {
			b.WriteString("\n" + st.Bad.Render("error: "+s.Err))
		}
	}
	if letters != nil && a.Probs != nil {
		b.WriteString("\n" + st.Muted.Render("P(option)") + "\n" + probBars(st, letters, a.Probs, w))
	}
	return m.c.Renderer.NewStyle().Width(w).Render(b.String())
}
