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

// Metric views cycled by "v".
const (
	ViewAll = iota
	ViewLoss
	ViewAccuracy
)

// StartedMsg reports an Adapt call's outcome.
type StartedMsg struct {
	Req   api.AdaptRequest
	RunID string
	Err   error
}

// KeyMap are the dashboard keys.
type KeyMap struct {
	Mode, Methods, Metric, Rerun key.Binding
}

// Model is the dashboard pane.
type Model struct {
	c     *common.Common
	keys  KeyMap
	sel   selector
	Suite string
	Seed  int64
	Knobs api.Knobs
	Mode  string // MethodGen or MethodDecoupled
	// Shown are the baselines added to the chart.
	Shown   map[string]bool
	Metric  int
	pending map[string]bool // Adapt calls in flight, by method
	// toggled: both modes have been shown, so new parameters re-run both.
	toggled bool
	w, h    int

	cacheVer, cacheW, cacheH int
	cacheKey                 string
	cacheOut                 string
}

// New returns the dashboard in decoupled mode with seed 1.
func New(c *common.Common) *Model {
	return &Model{
		c: c, sel: newSelector(), Seed: 1, Mode: MethodDecoupled,
		Shown: map[string]bool{}, pending: map[string]bool{}, cacheVer: -1,
		keys: KeyMap{
			Mode:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "gen-only ↔ decoupled")),
			Methods: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "baselines")),
			Metric:  key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "loss/acc view")),
			Rerun:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-run")),
		},
	}
}

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

// SetSuite makes suite current and adapts to it in the current mode.
func (m *Model) SetSuite(suite string) tea.Cmd {
	m.Suite = suite
	return m.ensure(m.Mode, false)
}

// SetParams changes seed and knobs and re-runs the shown methods.
func (m *Model) SetParams(seed int64, k api.Knobs) tea.Cmd {
	m.Seed, m.Knobs = seed, k
	return m.ensureAll()
}

// ToggleMode switches gen-only ↔ decoupled on the same task, seed and
// knobs (hence the same items); the other mode's run stays on the chart.
func (m *Model) ToggleMode() tea.Cmd {
	m.Mode, m.toggled = otherMode(m.Mode), true
	return m.ensure(m.Mode, false)
}

// Request is what an Adapt call for method would send.
func (m *Model) Request(method string) api.AdaptRequest {
	return api.AdaptRequest{Suite: m.Suite, Method: method, Seed: m.Seed, Knobs: m.Knobs}
}

func (m *Model) ensureAll() tea.Cmd {
	cmds := []tea.Cmd{m.ensure(m.Mode, false)}
	if m.toggled {
		cmds = append(cmds, m.ensure(otherMode(m.Mode), false))
	}
	for _, b := range Baselines {
		if m.Shown[b] {
			cmds = append(cmds, m.ensure(b, false))
		}
	}
	return tea.Batch(cmds...)
}

// ensure starts an Adapt for method unless a run with the same parameters
// exists (or force). The call runs in a Cmd: the engine may take a lock.
func (m *Model) ensure(method string, force bool) tea.Cmd {
	if m.Suite == "" || m.pending[method] {
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

// Runs returns the newest run per method for the current parameters.
func (m *Model) Runs() map[string]*state.Run {
	return m.c.Store.RunsFor(m.Suite, m.Seed, m.Knobs)
}

// Current is the current mode's run, if any.
func (m *Model) Current() *state.Run { return m.Runs()[m.Mode] }

// Update handles dashboard keys and Adapt results.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case StartedMsg:
		delete(m.pending, msg.Req.Method)
		if msg.Err != nil {
			return m, func() tea.Msg { return common.ErrMsg{Err: fmt.Errorf("adapt %s: %w", msg.Req.Method, msg.Err)} }
		}
		m.c.Store.AddRun(msg.RunID, msg.Req)
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
			return m, m.ensure(m.Mode, true)
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
		b := Baselines[s.cursor]
		m.Shown[b] = !m.Shown[b]
		if m.Shown[b] {
			return m.ensure(b, false)
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
	return []key.Binding{m.keys.Mode, m.keys.Methods, m.keys.Metric, m.keys.Rerun}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.sel.keys
	return [][]key.Binding{m.ShortHelp(), {k.Up, k.Down, k.Toggle, k.Close}}
}

func otherMode(mode string) string {
	if mode == MethodGen {
		return MethodDecoupled
	}
	return MethodGen
}
