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
		switch len(e.Answers) {
		case 0:
		case 1:
			parts = append(parts, joinParts(m.answerParts(e.Answers[0], e.Labels, m.w)))
		default:
			parts = append(parts, m.sideBySide(e, (m.w-2)/len(e.Answers)))
		}
	}
	return strings.Join(parts, "\n\n")
}

// sideBySide lays compared answers out in columns whose sections (header,
// text, option bars) start on the same rows, so the bars line up.
func (m *Model) sideBySide(e *entry, w int) string {
	cols := make([][]string, len(e.Answers))
	for i, a := range e.Answers {
		cols[i] = m.answerParts(a, e.Labels, w)
	}
	height := func(s string) int {
		if s == "" {
			return 0
		}
		return lipgloss.Height(s)
	}
	for sec := range numParts - 1 { // the last section needs no padding
		h := 0
		for _, c := range cols {
			h = max(h, height(c[sec]))
		}
		for _, c := range cols {
			if n := h - height(c[sec]); n > 0 {
				if c[sec] == "" {
					c[sec] = strings.Repeat("\n", n-1)
				} else {
					c[sec] += strings.Repeat("\n", n)
				}
			}
		}
	}
	r := m.c.Renderer
	blocks := make([]string, 0, 2*len(cols))
	for i, c := range cols {
		if i > 0 {
			blocks = append(blocks, "  ")
		}
		blocks = append(blocks, r.NewStyle().Width(w).Render(joinParts(c)))
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, blocks...)
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

// EmptyAnswer stands for an answer that ended before any text (the model
// emitted end-of-text at once).
const EmptyAnswer = "(no text: the model ended its answer at once)"

// answerParts renders one answer as its sections: the header, the text (or
// why there is none yet), and, for a multiple-choice prompt whose option
// probabilities are known, the bars.
func (m *Model) answerParts(a *answer, labels []string, w int) []string {
	st := m.c.Styles
	s := m.c.Store.Streams[a.Stream]
	var body string
	switch {
	case a.Note != "":
		body = st.Warn.Width(w).Render(a.Note)
	case s == nil || s.Text == "" && !s.Done && s.Err == "":
		body = st.Muted.Width(w).Render(m.waiting())
	case s.Canceled && strings.TrimSpace(s.Text) == "":
		body = st.Muted.Width(w).Render("(cancelled)")
	case s.Done && s.Err == "" && strings.TrimSpace(s.Text) == "":
		// Say so: a blank answer looks like a display fault.
		body = st.Muted.Width(w).Render(EmptyAnswer)
	default:
		text := Printable(s.Text)
		if !s.Done {
			text += "▌"
		}
		body = st.Base.Width(w).Render(text)
		if s.Err != "" {
			body += "\n" + st.Bad.Width(w).Render("error: "+s.Err)
		}
		if s.Canceled {
			body += "\n" + st.Muted.Width(w).Render("(cancelled)")
		}
	}
	parts := []string{m.answerHeader(a, s, w), body, ""}
	if labels != nil && a.Probs != nil {
		parts[2] = st.Muted.Render("P(option)") + "\n" + probBars(st, labels, a.Probs, w)
	}
	return parts
}

// numParts is how many sections answerParts returns.
const numParts = 3

// joinParts stacks an answer's sections, skipping empty ones.
func joinParts(parts []string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}
