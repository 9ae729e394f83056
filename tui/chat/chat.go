// Package chat is the chat pane: a prompt box and a transcript where the
// adapted model's answers stream in token by token, labelled with the mode
// and adapter; "compare" asks generalization-only and decoupled side by
// side, and multiple-choice prompts get a bar per option probability.
package chat

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/adapt"
	"github.com/degaml/workbench/tui/common"
)

const noAdapter = "no adapter yet (pick a task first)"

// cancelledNote answers for a mode whose adaptation its user stopped.
const cancelledNote = "the adaptation was cancelled: no adapter to ask (press r on Adapt to run it again)"

// MaxNew is the generation budget per answer.
const MaxNew = 128

// Stop ends an answer at its closing bracket or at the end of its line
// (EOS always ends it): a small model would otherwise run on ("[B]]]]n…")
// to the token limit.
var Stop = []string{"]", "\n"}

type answer struct {
	// Label is the TUI's own name for the answer; the engine's label of the
	// adapter that answered (the stream's) replaces its second part once
	// the first token arrives.
	Label, AdaptRun, Stream string
	Mode                    api.Method // the DeGAML mode asked, "" for the base model
	Probs                   []float64
	// Waiting: the mode had no run on this task yet; compare started one
	// and the question is asked when it finishes.
	Waiting bool
	prompt  string
	labels  []string
	Note    string // why there is no answer, or an error
}

type entry struct {
	Prompt  string
	Labels  []string // option labels when the prompt is multiple choice (OptionLabels)
	Answers []*answer
}

// KeyMap are the chat keys.
type KeyMap struct {
	Send, Newline, Compare, Edit, ScrollUp, ScrollDown key.Binding
}

type startedMsg struct {
	a   *answer
	id  string
	err error
}

type probsMsg struct {
	a     *answer
	probs []float64
	err   error
}

// Model is the chat pane.
type Model struct {
	c       *common.Common
	adapt   *adapt.Model
	keys    KeyMap
	input   textarea.Model
	vp      viewport.Model
	entries []*entry
	w, h    int
	ver     int
}

// New returns the chat pane; runs come from the dashboard (current task,
// mode and seed).
func New(c *common.Common, a *adapt.Model) *Model {
	ta := textarea.New()
	ta.Placeholder = "Ask the adapted model… (lines \"A: …\" make it multiple choice)"
	ta.ShowLineNumbers = false
	ta.SetHeight(3)
	ta.CharLimit = 4000
	// enter sends; a newline needs alt+enter or ctrl+j (MC prompts have several lines)
	ta.KeyMap.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"), key.WithHelp("alt+enter", "newline"))
	c.Styles.StyleTextarea(&ta)
	vp := viewport.New(0, 0)
	vp.Style = c.Renderer.NewStyle()
	vp.MouseWheelEnabled = c.Config.Mouse
	m := &Model{c: c, adapt: a, input: ta, vp: vp, ver: -1, keys: KeyMap{
		Send:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Newline:    ta.KeyMap.InsertNewline,
		Compare:    key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "compare gen-only vs decoupled")),
		Edit:       key.NewBinding(key.WithKeys("i", "enter"), key.WithHelp("i", "type")),
		ScrollUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll up")),
		ScrollDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "scroll down")),
	}}
	return m
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.input.SetWidth(w)
	m.vp.Width, m.vp.Height = w, max(1, h-m.input.Height()-2)
	m.ver = -1
}

// CapturesKeys: while the input is focused, q and digits are text.
func (m *Model) CapturesKeys() bool { return m.input.Focused() }

// Focus is called when the pane is shown. It does not focus the prompt
// box: digits switch panes until the user starts typing (i or enter), so
// "4" then "5" goes to Results instead of typing "5".
func (m *Model) Focus() {}

// FocusInput focuses the prompt box (a click on it).
func (m *Model) FocusInput() { m.input.Focus() }

// Blur unfocuses the prompt box (esc), so global keys work again.
func (m *Model) Blur() { m.input.Blur() }

// Update handles typing, sending and streamed results.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case startedMsg:
		if msg.err != nil {
			msg.a.Note = "error: " + msg.err.Error()
		} else {
			msg.a.Stream = msg.id
			m.c.Store.AddStream(msg.id)
		}
		m.ver = -1
		return m, nil
	case probsMsg:
		if msg.err != nil {
			msg.a.Note = "option probabilities: " + msg.err.Error()
		} else {
			msg.a.Probs = msg.probs
		}
		m.ver = -1
		return m, nil
	case tea.MouseMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return m, cmd
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.ScrollUp), key.Matches(msg, m.keys.ScrollDown):
			var cmd tea.Cmd
			m.vp, cmd = m.vp.Update(msg)
			return m, cmd
		case !m.input.Focused():
			if key.Matches(msg, m.keys.Edit) {
				m.input.Focus()
			}
			return m, nil
		case key.Matches(msg, m.keys.Compare):
			return m, m.send(true)
		case key.Matches(msg, m.keys.Send):
			return m, m.send(false)
		}
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

// send asks the current mode's adapter, or both modes when compare. An
// empty input with compare re-asks the last question of both modes.
func (m *Model) send(compare bool) tea.Cmd {
	prompt := m.input.Value()
	if len(prompt) == 0 {
		if !compare || len(m.entries) == 0 {
			return nil
		}
		prompt = m.entries[len(m.entries)-1].Prompt
	}
	m.input.Reset()
	e := &entry{Prompt: prompt, Labels: OptionLabels(prompt)}
	runs := m.adapt.Runs()
	modes := []api.Method{m.c.Store.Sel.Mode}
	if compare {
		modes = []api.Method{adapt.MethodGen, adapt.MethodDecoupled}
	}
	var cmds []tea.Cmd
	for _, mode := range modes {
		a := &answer{prompt: prompt, labels: e.Labels}
		e.Answers = append(e.Answers, a)
		run := runs[mode]
		switch {
		case run != nil && run.Canceled:
			a.Label = adapt.ModeLabel(mode) + " · " + string(mode)
			a.Note = cancelledNote
			continue
		case run != nil && (run.Done || !compare):
			a.Label = fmt.Sprintf("%s · %s · run %s", adapt.ModeLabel(mode), mode, run.ID)
			a.AdaptRun, a.Mode = run.ID, mode
		case compare && m.c.Store.Sel.Suite != "":
			// Compare runs what it needs: adapt in this mode first, then ask.
			a.Label = adapt.ModeLabel(mode) + " · " + string(mode)
			a.Mode, a.Waiting = mode, true
			a.Note = "adapting in " + adapt.ModeLabel(mode) + " mode first; the answer follows"
			cmds = append(cmds, m.adapt.Ensure(mode))
			continue
		case compare:
			a.Label = adapt.ModeLabel(mode) + " · " + string(mode)
			a.Note = noAdapter
			continue
		default:
			a.Label = "base model · " + noAdapter
		}
		cmds = append(cmds, m.ask(a, prompt, e.Labels))
	}
	m.entries = append(m.entries, e)
	m.ver = -1
	return tea.Batch(cmds...)
}

// Poll asks the questions that were waiting for an adaptation once it has
// finished (the root calls it after each batch of events).
func (m *Model) Poll() tea.Cmd {
	var cmds []tea.Cmd
	runs := m.adapt.Runs()
	for _, e := range m.entries {
		for _, a := range e.Answers {
			if !a.Waiting {
				continue
			}
			run := runs[a.Mode]
			switch {
			case run == nil || !run.Done:
				continue
			case run.Canceled:
				a.Waiting, a.Note = false, cancelledNote
			case run.Err != "":
				a.Waiting, a.Note = false, "adaptation failed: "+run.Err
			default:
				a.Waiting, a.Note = false, ""
				a.Label = fmt.Sprintf("%s · %s · run %s", adapt.ModeLabel(a.Mode), a.Mode, run.ID)
				a.AdaptRun = run.ID
				cmds = append(cmds, m.ask(a, a.prompt, a.labels))
			}
			m.ver = -1
		}
	}
	return tea.Batch(cmds...)
}

func (m *Model) ask(a *answer, prompt string, labels []string) tea.Cmd {
	eng, ctx := m.c.Engine, m.c.Ctx
	req := api.ChatRequest{AdaptRun: a.AdaptRun, Prompt: prompt, MaxNew: MaxNew, Stop: Stop}
	cmds := []tea.Cmd{func() tea.Msg {
		id, err := eng.Chat(ctx, req)
		return startedMsg{a: a, id: id, err: err}
	}}
	if labels != nil {
		cmds = append(cmds, func() tea.Msg {
			p, err := eng.OptionProbs(ctx, req)
			return probsMsg{a: a, probs: p, err: err}
		})
	}
	return tea.Batch(cmds...)
}

// View renders transcript and prompt box.
func (m *Model) View() string {
	if m.ver != m.c.Store.Version {
		atBottom := m.vp.AtBottom()
		m.vp.SetContent(m.transcript())
		if atBottom {
			m.vp.GotoBottom()
		}
		m.ver = m.c.Store.Version
	}
	st := m.c.Styles
	sep := st.Muted.Render(repeat("─", m.w))
	// One line, always: the viewport's height counts on it.
	hint := "enter send · alt+enter newline · ctrl+r compare · esc leave input"
	if m.w < lipgloss.Width(hint) {
		hint = "enter send · alt+enter newline · ctrl+r compare"
	}
	if !m.input.Focused() {
		hint = "i or enter to type · pgup/pgdn scroll"
	}
	hint = st.Muted.Render(ansi.Truncate(hint, m.w, "…"))
	return lipgloss.JoinVertical(lipgloss.Left, m.vp.View(), sep, m.input.View(), hint)
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.input.Focused() {
		return []key.Binding{m.keys.Send, m.keys.Newline, m.keys.Compare}
	}
	return []key.Binding{m.keys.Edit, m.keys.ScrollUp, m.keys.ScrollDown}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Send, m.keys.Newline, m.keys.Compare}, {m.keys.Edit, m.keys.ScrollUp, m.keys.ScrollDown}}
}
