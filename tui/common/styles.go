package common

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/themes"
)

// Styles are every lipgloss style the TUI uses, all created from one
// renderer (mods style): never lipgloss.NewStyle(), which binds to the
// process-wide renderer and would leak the server's colour profile into SSH
// sessions.
type Styles struct {
	r    *lipgloss.Renderer
	mono bool

	Base, Title, Muted, Accent, Label, Value lipgloss.Style
	Good, Warn, Bad                          lipgloss.Style
	Pane, PaneFocused                        lipgloss.Style
	TabActive, TabInactive, TabBar           lipgloss.Style
	StatusBar, Selected, Card, Heading       lipgloss.Style
	ErrorText                                lipgloss.Style

	Series []lipgloss.Style // one per chart series; mono themes vary the attribute
	Help   help.Styles

	// Colours for components that take colour strings (progress bars).
	ProgressFull, ProgressEmpty string
}

// NewStyles builds the style set of theme th on renderer r.
func NewStyles(r *lipgloss.Renderer, th themes.Theme) *Styles {
	c := th.Colors
	s := &Styles{r: r, mono: th.Mono}
	fg := func(col themes.Color) lipgloss.Style {
		if th.Mono {
			return r.NewStyle()
		}
		return r.NewStyle().Foreground(col.Adaptive())
	}
	border := lipgloss.RoundedBorder()
	s.Base = fg(c.Text)
	s.Title = fg(c.Accent).Bold(true)
	s.Heading = fg(c.Text).Bold(true)
	s.Muted = fg(c.Muted)
	if th.Mono {
		s.Muted = r.NewStyle().Faint(true)
	}
	s.Accent = fg(c.Accent)
	s.Label = fg(c.Muted)
	s.Value = fg(c.Text).Bold(true)
	s.Good = fg(c.Good)
	s.Warn = fg(c.Warn)
	s.Bad = fg(c.Bad).Bold(true)
	s.ErrorText = s.Bad
	s.Pane = r.NewStyle().Border(border)
	s.PaneFocused = r.NewStyle().Border(lipgloss.ThickBorder())
	if !th.Mono {
		s.Pane = s.Pane.BorderForeground(c.Border.Adaptive())
		s.PaneFocused = s.PaneFocused.BorderForeground(c.BorderFocus.Adaptive())
	}
	s.Card = r.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1)
	s.TabBar = r.NewStyle()
	s.TabInactive = s.Muted.Padding(0, 1)
	s.TabActive = r.NewStyle().Bold(true).Padding(0, 1).Reverse(true)
	s.Selected = r.NewStyle().Reverse(true)
	if !th.Mono {
		s.TabActive = r.NewStyle().Bold(true).Padding(0, 1).
			Foreground(c.SelectedFg.Adaptive()).Background(c.SelectedBg.Adaptive())
		s.Selected = r.NewStyle().Foreground(c.SelectedFg.Adaptive()).Background(c.SelectedBg.Adaptive())
		s.Card = s.Card.BorderForeground(c.Border.Adaptive())
	}
	s.StatusBar = s.Muted
	s.Help = help.Styles{
		ShortKey:       s.Accent,
		ShortDesc:      s.Muted,
		ShortSeparator: s.Muted,
		Ellipsis:       s.Muted,
		FullKey:        s.Accent,
		FullDesc:       s.Muted,
		FullSeparator:  s.Muted,
	}
	if th.Mono {
		s.Series = []lipgloss.Style{r.NewStyle(), r.NewStyle().Bold(true), r.NewStyle().Faint(true), r.NewStyle().Underline(true)}
	} else {
		for _, col := range c.Series {
			s.Series = append(s.Series, r.NewStyle().Foreground(col.Adaptive()))
		}
	}
	dark := r.HasDarkBackground()
	s.ProgressFull, s.ProgressEmpty = c.Accent.Hex(dark), c.Border.Hex(dark)
	return s
}

// Renderer returns the renderer the styles were built on.
func (s *Styles) Renderer() *lipgloss.Renderer { return s.r }

// Mono reports a colourless theme.
func (s *Styles) Mono() bool { return s.mono }

// SeriesStyle returns the style of series i, cycling through the palette.
func (s *Styles) SeriesStyle(i int) lipgloss.Style {
	return s.Series[i%len(s.Series)]
}

func thickLeft() lipgloss.Border {
	return lipgloss.Border{Left: "┃"}
}
