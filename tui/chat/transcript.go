package chat

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/tui/adapt"
	"github.com/degaml/workbench/tui/state"
)

func repeat(s string, n int) string { return strings.Repeat(s, max(0, n)) }

// Printable makes generated text safe to draw: a small byte-level model can
// emit any byte, and an ESC, a carriage return or a stray C1 code would
// move the cursor or restyle the screen. Invalid UTF-8 and control
// characters become "�"; newlines stay and tabs become spaces.
func Printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return '\uFFFD'
		}
		return r
	}, s)
}

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

// waiting explains an answer that has not started: the engine answers once
// the adaptation it asks has finished, and runs one job at a time, so a
// question asked while the pipeline trains waits for it.
func (m *Model) waiting() string {
	if s, ok := m.c.Store.PipelineRunning(); ok {
		return fmt.Sprintf("… waiting for the engine (pipeline: %s %.0f%%)", s.Name, s.Fraction*100)
	}
	return "…"
}

// answerHeader names who answered: the mode and the engine's label of the
// adapter ("decoupled · degaml on math-mc#517"), the TUI's own label until
// the engine has named it, and the generation speed once known.
func (m *Model) answerHeader(a *answer, s *state.Stream, w int) string {
	st := m.c.Styles
	label := a.Label
	if s != nil && s.Label != "" {
		if a.Mode != "" {
			label = adapt.ModeLabel(a.Mode) + " · " + s.Label
		} else {
			label = s.Label + " · " + noAdapter
		}
	}
	speed := ""
	if s != nil && s.TokensPerS > 0 {
		speed = fmt.Sprintf(" · %.1f tok/s", s.TokensPerS)
	}
	if speed == "" {
		return st.Accent.Bold(true).Width(w).Render(label)
	}
	if lipgloss.Width(label+speed) <= w {
		return st.Accent.Bold(true).Render(label) + st.Muted.Render(speed)
	}
	return st.Accent.Bold(true).Width(w).Render(label) + "\n" + st.Muted.Width(w).Render(strings.TrimPrefix(speed, " · "))
}

func (m *Model) renderAnswer(a *answer, letters []string, w int) string {
	st := m.c.Styles
	var b strings.Builder
	s := m.c.Store.Streams[a.Stream]
	b.WriteString(m.answerHeader(a, s, w) + "\n")
	switch {
	case a.Note != "":
		b.WriteString(st.Warn.Width(w).Render(a.Note))
	case s == nil || s.Text == "" && !s.Done && s.Err == "":
		b.WriteString(st.Muted.Width(w).Render(m.waiting()))
	default:
		text := Printable(s.Text)
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
