// Package adapt is the adaptation dashboard: a live braille chart of
// support/query loss and accuracy per inner step for every method run on the
// current task, the step table, the chosen hypothesis, and the one-key toggle
// between generalization-only and decoupled DeGAML.
package adapt

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// Metric views cycled by "v": both panels (side by side when the screen
// is wide enough, else accuracy), accuracy only, loss only.
const (
	ViewAll = iota
	ViewAccuracy
	ViewLoss
)

// StartedMsg reports an Adapt call's outcome.
type StartedMsg struct {
	Req   api.AdaptRequest
	RunID string
	Err   error
}

// KeyMap are the dashboard keys.
type KeyMap struct {
	Mode, Methods, Metric, Rerun, NewSeed, Up, Down key.Binding
}

// Model is the dashboard pane. What is selected (task, seed, mode, knobs,
// baselines) lives in the shared store (c.Store.Sel), never here, so every
// pane shows the same selection.
type Model struct {
	c        *common.Common
	keys     KeyMap
	sel      selector
	Metric   int
	pending  map[api.Method]bool // Adapt calls in flight, by method
	top      int                 // step table's first row shown; -1 = automatic
	shownTop int                 // the first row last drawn
	w, h     int

	cacheVer, cacheW, cacheH int
	cacheKey                 string
	cacheOut                 string
}

// New returns the dashboard.
func New(c *common.Common) *Model {
	return &Model{
		c: c, sel: newSelector(), pending: map[api.Method]bool{}, cacheVer: -1, top: -1,
		keys: KeyMap{
			Mode:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "gen-only ↔ decoupled")),
			Methods: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "baselines")),
			Metric:  key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "view")),
			Rerun:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-run all")),
			NewSeed: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new seed")),
			Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll steps")),
			Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll steps")),
		},
	}
}

// Sel is the shared selection.
func (m *Model) Sel() *state.Selection { return &m.c.Store.Sel }

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// CapturesKeys implements common.Component.
func (m *Model) CapturesKeys() bool { return false }

// Focus implements common.Component.
func (m *Model) Focus() {}

// Blur closes the selector.
func (m *Model) Blur() { m.sel.open = false }

// SetSuite makes suite current and runs everything selected on it (the
// ticked baselines included).
func (m *Model) SetSuite(suite string) tea.Cmd {
	m.c.Store.SelectSuite(suite)
	m.top = -1
	return m.ensureAll(false)
}

// SetParams changes seed and knobs and re-runs everything selected.
func (m *Model) SetParams(seed int64, k api.Knobs) tea.Cmd {
	m.c.Store.SelectKnobs(seed, k)
	m.top = -1
	return m.ensureAll(false)
}

// NextSeed moves to a new seed (a new instance of the task) and runs
// everything selected on it.
func (m *Model) NextSeed() tea.Cmd {
	m.c.Store.NextSeed()
	m.top = -1
	return m.ensureAll(false)
}

// ToggleMode switches gen-only ↔ decoupled on the same task, seed and
// knobs (hence the same items); the other mode's run stays on the chart.
func (m *Model) ToggleMode() tea.Cmd {
	m.c.Store.ToggleMode()
	return m.ensure(m.Sel().Mode, false)
}

// Request is what an Adapt call for method would send.
func (m *Model) Request(method api.Method) api.AdaptRequest { return m.Sel().Request(method) }

// ensureAll starts every selected method that has no run for the current
// selection (force: re-runs them all).
func (m *Model) ensureAll(force bool) tea.Cmd {
	var cmds []tea.Cmd
	for _, method := range m.Sel().Methods() {
		cmds = append(cmds, m.ensure(method, force))
	}
	return tea.Batch(cmds...)
}

// ensure starts an Adapt for method unless a run with the same parameters
// exists (or force). The call runs in a Cmd: the engine may take a lock.
func (m *Model) ensure(method api.Method, force bool) tea.Cmd {
	if m.Sel().Suite == "" || m.pending[method] {
		return nil
	}
	if _, ok := m.Runs()[method]; ok && !force {
		return nil
	}
	m.pending[method] = true
	req := m.Request(method)
	eng, ctx := m.c.Engine, m.c.Ctx
	return func() tea.Msg {
		id, err := eng.Adapt(ctx, req)
		return StartedMsg{Req: req, RunID: id, Err: err}
	}
}

// Ensure starts method's run for the current task, seed and knobs unless
// one exists (the chat's compare uses it); for the other mode it also puts
// both modes on the chart.
func (m *Model) Ensure(method api.Method) tea.Cmd {
	if method == state.OtherMode(m.Sel().Mode) {
		m.c.Store.CompareModes()
	}
	return m.ensure(method, false)
}

// Runs returns the newest run per selected method for the current
// selection; unselected methods are left out.
func (m *Model) Runs() map[api.Method]*state.Run { return m.c.Store.Selected() }

// Current is the current mode's run, if any.
func (m *Model) Current() *state.Run { return m.Runs()[m.Sel().Mode] }

// Update handles dashboard keys and Adapt results.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case StartedMsg:
		delete(m.pending, api.Method(msg.Req.Method))
		if msg.Err != nil {
			return m, func() tea.Msg { return common.ErrMsg{Err: fmt.Errorf("adapt %s: %w", msg.Req.Method, msg.Err)} }
		}
		m.c.Store.AddRun(msg.RunID, msg.Req)
	case tea.MouseMsg:
		if m.sel.open {
			return m, m.selectorMouse(msg)
		}
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			m.scrollBy(-1)
		case tea.MouseButtonWheelDown:
			m.scrollBy(1)
		}
	case tea.KeyMsg:
		if m.sel.open {
			return m, m.updateSelector(msg)
		}
		switch {
		case key.Matches(msg, m.keys.Mode):
			return m, m.ToggleMode()
		case key.Matches(msg, m.keys.Methods):
			m.sel.open = true
		case key.Matches(msg, m.keys.Metric):
			m.Metric = (m.Metric + 1) % 3
		case key.Matches(msg, m.keys.Rerun):
			m.top = -1
			return m, m.ensureAll(true)
		case key.Matches(msg, m.keys.NewSeed):
			return m, m.NextSeed()
		case key.Matches(msg, m.keys.Up):
			m.scrollBy(-1) // clamped when drawn
		case key.Matches(msg, m.keys.Down):
			m.scrollBy(1)
		}
	}
	return m, nil
}

func (m *Model) updateSelector(k tea.KeyMsg) tea.Cmd {
	s := &m.sel
	switch {
	case key.Matches(k, s.keys.Close):
		s.open = false
	case key.Matches(k, s.keys.Up):
		s.cursor = (s.cursor + len(Baselines) - 1) % len(Baselines)
	case key.Matches(k, s.keys.Down):
		s.cursor = (s.cursor + 1) % len(Baselines)
	case key.Matches(k, s.keys.Toggle):
		if m.c.Store.ToggleBaseline(Baselines[s.cursor]) {
			return m.ensure(Baselines[s.cursor], false)
		}
	}
	return nil
}

// selectorMouse: the wheel moves the checklist's cursor; a click on a
// baseline ticks or unticks it. Mouse rows are the screen's (the pane
// starts below the tab bar).
func (m *Model) selectorMouse(msg tea.MouseMsg) tea.Cmd {
	s := &m.sel
	switch {
	case msg.Button == tea.MouseButtonWheelUp:
		s.cursor = max(0, s.cursor-1)
	case msg.Button == tea.MouseButtonWheelDown:
		s.cursor = min(len(Baselines)-1, s.cursor+1)
	case msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft:
		i := msg.Y - 1 - s.firstRow
		if i < 0 || i >= len(Baselines) {
			return nil
		}
		s.cursor = i
		if m.c.Store.ToggleBaseline(Baselines[i]) {
			return m.ensure(Baselines[i], false)
		}
	}
	return nil
}

// SelectorOpen reports whether the baseline checklist is open (esc closes it
// before it means "back").
func (m *Model) SelectorOpen() bool { return m.sel.open }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.sel.open {
		k := m.sel.keys
		return []key.Binding{k.Up, k.Down, k.Toggle, k.Close}
	}
	return []key.Binding{m.keys.Mode, m.keys.Methods, m.keys.Metric, m.keys.Rerun, m.keys.NewSeed}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.sel.keys
	return [][]key.Binding{m.ShortHelp(), {m.keys.Up, m.keys.Down}, {k.Up, k.Down, k.Toggle, k.Close}}
}
