package common

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/list"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
)

// The bubbles components build their default styles on the global
// renderer; these helpers restyle them from ours. Call them after New.

// NewHelp returns a help model styled from s.
func (s *Styles) NewHelp() help.Model {
	h := help.New()
	h.Styles = s.Help
	return h
}

// StyleTextInput restyles a textinput (and its cursor). The cursor is
// static: a blinking cursor redraws twice a second for nothing and makes
// golden files flaky.
func (s *Styles) StyleTextInput(ti *textinput.Model) {
	ti.PromptStyle = s.Accent
	ti.TextStyle = s.Base
	ti.PlaceholderStyle = s.Muted
	ti.CompletionStyle = s.Muted
	ti.Cursor.Style = s.r.NewStyle()
	ti.Cursor.TextStyle = s.Base
	ti.Cursor.SetMode(cursor.CursorStatic)
}

// StyleTextarea restyles a textarea for both focus states.
func (s *Styles) StyleTextarea(ta *textarea.Model) {
	mk := func(focused bool) textarea.Style {
		st := textarea.Style{
			Base:             s.r.NewStyle(),
			CursorLine:       s.r.NewStyle(),
			CursorLineNumber: s.Muted,
			EndOfBuffer:      s.Muted,
			LineNumber:       s.Muted,
			Placeholder:      s.Muted,
			Prompt:           s.Accent,
			Text:             s.Base,
		}
		if !focused {
			st.Prompt = s.Muted
		}
		return st
	}
	ta.FocusedStyle, ta.BlurredStyle = mk(true), mk(false)
	ta.Cursor.Style = s.r.NewStyle()
	ta.Cursor.TextStyle = s.Base
	ta.Cursor.SetMode(cursor.CursorStatic)
}

// StyleList restyles a list, its filter input, spinner-less status bar and
// paginator.
func (s *Styles) StyleList(l *list.Model) {
	ls := list.Styles{
		TitleBar:                    s.r.NewStyle().Padding(0, 0, 1, 0),
		Title:                       s.Title,
		Spinner:                     s.Accent,
		FilterPrompt:                s.Accent,
		FilterCursor:                s.r.NewStyle(),
		DefaultFilterCharacterMatch: s.r.NewStyle().Underline(true),
		StatusBar:                   s.Muted.Padding(0, 0, 1, 0),
		StatusEmpty:                 s.Muted,
		StatusBarActiveFilter:       s.Base,
		StatusBarFilterCount:        s.Muted,
		NoItems:                     s.Muted,
		PaginationStyle:             s.r.NewStyle().PaddingLeft(2),
		HelpStyle:                   s.r.NewStyle().Padding(1, 0, 0, 2),
		ActivePaginationDot:         s.Accent.SetString("•"),
		InactivePaginationDot:       s.Muted.SetString("•"),
		ArabicPagination:            s.Muted,
		DividerDot:                  s.Muted.SetString(" • "),
	}
	l.Styles = ls
	l.FilterInput.PromptStyle = ls.FilterPrompt
	l.FilterInput.TextStyle = s.Base
	l.FilterInput.Cursor.Style = ls.FilterCursor
	l.FilterInput.Cursor.SetMode(cursor.CursorStatic)
	l.Paginator.ActiveDot = ls.ActivePaginationDot.String()
	l.Paginator.InactiveDot = ls.InactivePaginationDot.String()
	l.Help.Styles = s.Help
}

// DelegateStyles returns list item styles.
func (s *Styles) DelegateStyles() list.DefaultItemStyles {
	pad := s.r.NewStyle().Padding(0, 0, 0, 2)
	sel := s.r.NewStyle().Border(thickLeft(), false, false, false, true).Padding(0, 0, 0, 1)
	if !s.mono {
		sel = sel.BorderForeground(s.Accent.GetForeground()).Foreground(s.Accent.GetForeground())
	}
	return list.DefaultItemStyles{
		NormalTitle:   pad.Inherit(s.Base),
		NormalDesc:    pad.Inherit(s.Muted),
		SelectedTitle: sel.Bold(true),
		SelectedDesc:  sel.Inherit(s.Muted),
		DimmedTitle:   pad.Inherit(s.Muted),
		DimmedDesc:    pad.Inherit(s.Muted),
		FilterMatch:   s.r.NewStyle().Underline(true),
	}
}

// NewProgress returns a progress bar whose colours and colour profile come
// from this session, drawn with ViewAs (no spring animation to tick).
func (s *Styles) NewProgress(w int) progress.Model {
	opts := []progress.Option{
		progress.WithWidth(w),
		progress.WithoutPercentage(),
		progress.WithColorProfile(s.r.ColorProfile()),
	}
	if s.mono {
		opts = append(opts, progress.WithFillCharacters('█', '░'))
	} else {
		opts = append(opts, progress.WithSolidFill(s.ProgressFull))
	}
	p := progress.New(opts...)
	p.EmptyColor = s.ProgressEmpty
	p.PercentageStyle = s.Muted
	return p
}
