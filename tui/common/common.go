// Package common holds what every TUI component shares: the engine, the
// per-session renderer and styles built from it, the theme, the key map and
// the event-fed state. It is passed down by pointer (soft-serve style) so a
// resize or theme change is seen by every component at once.
package common

import (
	"context"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/log"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/themes"
	"github.com/degaml/workbench/tui/state"
)

// Config is the user-facing behaviour that differs between sessions.
type Config struct {
	Mouse bool // wheel scrolling and click-to-focus
}

// Common is shared by all components of one TUI session.
type Common struct {
	Ctx      context.Context
	Engine   api.Engine
	Renderer *lipgloss.Renderer
	Theme    themes.Theme
	Styles   *Styles
	Keys     KeyMap
	Config   Config
	Store    *state.Store
	// Log receives debug logs (--debug); nil discards them. Never the screen.
	Log *log.Logger

	Width, Height int
}

// New builds a Common; styles come from r so that each SSH session renders
// with its own terminal's colour profile and background.
func New(ctx context.Context, eng api.Engine, r *lipgloss.Renderer, th themes.Theme, cfg Config) *Common {
	if ctx == nil {
		ctx = context.Background()
	}
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	return &Common{
		Ctx:      ctx,
		Engine:   eng,
		Renderer: r,
		Theme:    th,
		Styles:   NewStyles(r, th),
		Keys:     DefaultKeyMap(),
		Config:   cfg,
		Store:    state.NewStore(),
	}
}

// Logf writes a debug log line when logging is on.
func (c *Common) Logf(format string, args ...any) {
	if c.Log != nil {
		c.Log.Debugf(format, args...)
	}
}
