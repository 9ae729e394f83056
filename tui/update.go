package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/common"
)

type apiKnobs = api.Knobs

// stagesMsg carries Engine.Stages(), read off the UI goroutine.
type stagesMsg []api.StageStatus

func (m *Model) fetchStages() tea.Cmd {
	eng := m.c.Engine
	return func() tea.Msg { return stagesMsg(eng.Stages()) }
}

// Update routes messages: sizes and keys to the root first, component
// messages to every pane (list filtering, chat streams, adapt starts).
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m, nil
	case EventsMsg:
		return m, m.applyEvents(msg)
	case stagesMsg:
		m.c.Store.SetStages(msg)
		return m, nil
	case tea.KeyMsg:
		if runes := splitRunes(msg); runes != nil {
			var cmds []tea.Cmd
			for _, k := range runes {
				cmds = append(cmds, m.handleKey(k))
			}
			return m, tea.Batch(cmds...)
		}
		return m, m.handleKey(msg)
	case tea.MouseMsg:
		return m, m.handleMouse(msg)
	case common.SuiteSelectedMsg:
		return m, tea.Batch(m.Switch(PaneAdapt), m.adapt.SetSuite(msg.Suite))
	case common.KnobsAppliedMsg:
		return m, tea.Batch(m.Switch(PaneAdapt), m.adapt.SetParams(msg.Seed, msg.Knobs))
	case common.ErrMsg:
		m.errLine = msg.Err.Error()
		m.c.Logf("engine error: %v", msg.Err)
		return m, nil
	}
	var cmds []tea.Cmd
	for i, p := range m.panes {
		np, cmd := p.Update(msg)
		m.panes[i] = np
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

func (m *Model) applyEvents(msg EventsMsg) tea.Cmd {
	if msg.closed {
		return nil
	}
	m.c.Store.Apply(msg.Events)
	m.c.Logf("events: %d", len(msg.Events))
	m.lastEv = time.Now()
	cmds := []tea.Cmd{m.wait()}
	for _, e := range msg.Events {
		if e.Kind == events.StageFinished {
			// The facade knows states events don't carry (failed, pending).
			cmds = append(cmds, m.fetchStages())
			break
		}
	}
	// A compare in chat may be waiting for an adaptation that just ended.
	cmds = append(cmds, m.chat.Poll())
	if m.c.Store.ResultsChanged {
		m.c.Store.ResultsChanged = false
		cmds = append(cmds, m.results.Fetch())
	}
	return tea.Batch(cmds...)
}

// splitRunes splits typed runes that arrived in one read into one key
// each, or returns nil. Bubble Tea reports a burst of printable input (fast
// typing over SSH, tmux send-keys, a terminal without bracketed paste) as a
// single KeyMsg "m4"; as one message it would match no binding, and keys
// like "/" (filter) or "m" (mode) would be lost. Pastes stay whole.
func splitRunes(k tea.KeyMsg) []tea.KeyMsg {
	if k.Type != tea.KeyRunes || k.Paste || len(k.Runes) < 2 {
		return nil
	}
	out := make([]tea.KeyMsg, len(k.Runes))
	for i, r := range k.Runes {
		out[i] = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}
	}
	return out
}

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	if key.Matches(k, keys.ForceQuit) {
		return tea.Quit
	}
	if m.full && (key.Matches(k, keys.Help) || key.Matches(k, keys.Back)) {
		m.full = false
		return nil
	}
	pane := m.panes[m.active]
	captures := pane.CapturesKeys()
	switch {
	case key.Matches(k, keys.NextPane):
		return m.Switch((m.active + 1) % numPanes)
	case key.Matches(k, keys.PrevPane):
		return m.Switch((m.active + numPanes - 1) % numPanes)
	case key.Matches(k, keys.Back):
		return m.handleBack(k)
	}
	if m.c.Width < MinWidth || m.c.Height < MinHeight {
		if key.Matches(k, keys.Quit) {
			return tea.Quit
		}
		return nil
	}
	if m.confirmQuit {
		// The question "quit while training?" takes the next key.
		m.confirmQuit = false
		if k.String() == "y" || key.Matches(k, keys.Quit) {
			return tea.Quit
		}
		return nil
	}
	if !captures {
		switch {
		case key.Matches(k, keys.Quit):
			if _, training := m.c.Store.PipelineRunning(); training {
				m.confirmQuit = true
				return nil
			}
			return tea.Quit
		case key.Matches(k, keys.Help):
			m.full = !m.full
			return nil
		}
		for i, b := range []key.Binding{keys.Tasks, keys.Pipeline, keys.Adapt, keys.Chat, keys.Results, keys.Knobs} {
			if key.Matches(k, b) {
				return m.Switch(Pane(i))
			}
		}
	}
	np, cmd := pane.Update(k)
	m.panes[m.active] = np
	return cmd
}

// handleBack: esc first leaves whatever the pane is in the middle of (chat
// input, list filter, baseline selector, knobs field); only then goes back.
func (m *Model) handleBack(k tea.KeyMsg) tea.Cmd {
	switch {
	case m.active == PaneChat && m.chat.CapturesKeys():
		m.chat.Blur()
		return nil
	case m.active == PaneTasks && m.picker.Filtering():
		_, cmd := m.picker.Update(k)
		return cmd
	case m.active == PaneKnobs && m.panes[PaneKnobs].CapturesKeys():
		m.panes[PaneKnobs].Blur()
		return nil
	case m.active == PaneAdapt && m.adapt.SelectorOpen():
		_, cmd := m.adapt.Update(k)
		return cmd
	}
	m.back()
	return nil
}
