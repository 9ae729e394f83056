// Package tui is the Bubble Tea front end of the workbench. It consumes the
// core only through core/api.Engine and the event bus, so the same model runs
// in a local terminal (Run) and per SSH session (tui/serve).
package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/adapt"
	"github.com/degaml/workbench/tui/chat"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/knobs"
	"github.com/degaml/workbench/tui/picker"
	"github.com/degaml/workbench/tui/pipeline"
	"github.com/degaml/workbench/tui/results"
)

// Common is what the root model shares with every component.
type Common = common.Common

// Minimum usable terminal size; below it a "too small" screen is shown.
const (
	MinWidth  = 60
	MinHeight = 20
)

// Model is the root model: tab bar, the active pane, status line and help.
type Model struct {
	c       *Common
	panes   [numPanes]common.Component
	adapt   *adapt.Model
	chat    *chat.Model
	picker  *picker.Model
	results *results.Model
	active  Pane
	history []Pane
	help    help.Model
	full    bool // full help shown
	sub     *events.Subscription
	lastEv  time.Time
	errLine string
	// manual: tests pump events themselves (no blocking wait Cmd).
	manual bool
	// confirmQuit: q was pressed while the pipeline trains; the next key
	// answers.
	confirmQuit bool
}

// New builds the root model. It subscribes to the engine's bus at once so
// no event published after New is missed; call Close when done.
func New(c *Common) *Model {
	m := &Model{c: c, help: c.Styles.NewHelp()}
	m.adapt = adapt.New(c)
	m.chat = chat.New(c, m.adapt)
	m.picker = picker.New(c)
	m.results = results.New(c)
	m.panes = [numPanes]common.Component{
		PaneTasks:    m.picker,
		PanePipeline: pipeline.New(c),
		PaneAdapt:    m.adapt,
		PaneChat:     m.chat,
		PaneResults:  m.results,
		PaneKnobs:    knobs.New(c, func() (k apiKnobs, seed int64) { return c.Store.Sel.Knobs, c.Store.Sel.Seed }),
	}
	if c.Engine != nil {
		m.sub = c.Engine.Bus().Subscribe(events.Coalesce)
	}
	return m
}

// Close unsubscribes from the bus (ends the waiting Cmd).
func (m *Model) Close() {
	if m.sub != nil {
		m.sub.Close()
	}
}

// Init starts the pipeline in the background and begins consuming events.
func (m *Model) Init() tea.Cmd {
	eng, ctx := m.c.Engine, m.c.Ctx
	return tea.Batch(
		m.wait(),
		func() tea.Msg { eng.StartPipeline(ctx); return stagesMsg(eng.Stages()) },
		m.results.Init(),
	)
}

// Active returns the pane shown.
func (m *Model) Active() Pane { return m.active }

// Adapt exposes the dashboard (mode, seed, runs) for tests and the server.
func (m *Model) Adapt() *adapt.Model { return m.adapt }

// Switch shows pane p, remembering the previous one for esc. Entering
// Results refetches the table.
func (m *Model) Switch(p Pane) tea.Cmd {
	if p == m.active {
		return nil
	}
	m.panes[m.active].Blur()
	m.history = append(m.history, m.active)
	if len(m.history) > 32 {
		m.history = m.history[1:]
	}
	m.active = p
	m.panes[p].Focus()
	m.c.Logf("pane %s", p.Title())
	if p == PaneResults {
		return m.results.Fetch()
	}
	return nil
}

func (m *Model) back() {
	if n := len(m.history); n > 0 {
		p := m.history[n-1]
		m.history = m.history[:n-1]
		m.panes[m.active].Blur()
		m.active = p
		m.panes[p].Focus()
	}
}

func (m *Model) resize(w, h int) {
	m.c.Width, m.c.Height = w, h
	m.help.Width = w
	bw, bh := m.bodySize()
	for _, p := range m.panes {
		p.SetSize(bw, bh)
	}
}

// bodySize is the pane area: all but the tab bar, a spacer, status and help.
func (m *Model) bodySize() (int, int) {
	return m.c.Width, max(1, m.c.Height-4)
}

// globalKeys lists the root bindings for help.
func (m *Model) globalKeys() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.NextPane, k.Back, k.Help, k.Quit}
}

func (m *Model) wait() tea.Cmd {
	if m.manual || m.sub == nil {
		return nil
	}
	return waitEvents(m.sub, m.lastEv)
}
