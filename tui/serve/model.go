package serve

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// sessionModel wraps the workbench TUI for one SSH session: a server bar on
// top (who you are, your queue position, the allow-any-key warning), input
// idle timeout, and a goodbye screen when the server shuts down. The TUI
// itself is unchanged; it gets the terminal height minus the bar.
type sessionModel struct {
	inner  tea.Model
	r      *lipgloss.Renderer
	user   string
	warn   string        // shown on every screen when any key is accepted
	status func() string // the session's queue, polled off the event loop
	idle   time.Duration // 0 = no input timeout
	every  time.Duration // status refresh

	queue     string
	lastInput time.Time
	bye       string
	w, h      int
	onBye     func(string)  // records the farewell, printed again after the alt screen closes
	report    func()        // records the seat's selection for the admin view; nil = none
	admin     func() string // the admin view's text; nil for seats without an admin key
	showAdmin bool
}

// adminKey toggles the admin view on seats whose key is listed as admin.
const adminKey = "ctrl+a"

type tickMsg struct{ queue string }

// goodbyeMsg replaces the screen with a farewell and ends the program.
type goodbyeMsg struct{ text string }

// quitNowMsg ends the program after the goodbye screen had its moment.
type quitNowMsg struct{}

// tickEvery paces the queue line and the input idle check; each tick costs
// one View per session.
var tickEvery = time.Second

// goodbyeFor is how long the goodbye screen stays before the program ends.
var goodbyeFor = 750 * time.Millisecond

func (m *sessionModel) bar() int {
	if m.warn != "" {
		return 2
	}
	return 1
}

func (m *sessionModel) tick() tea.Cmd {
	status := m.status
	return tea.Tick(m.every, func(time.Time) tea.Msg { return tickMsg{queue: status()} })
}

func (m *sessionModel) Init() tea.Cmd {
	m.lastInput = time.Now()
	m.queue = m.status()
	return tea.Batch(m.inner.Init(), m.tick())
}

func (m *sessionModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		msg.Height = max(0, msg.Height-m.bar())
		return m.forward(msg)
	case tickMsg:
		m.queue = msg.queue
		if m.idle > 0 && m.bye == "" && time.Since(m.lastInput) >= m.idle {
			return m.goodbye(fmt.Sprintf("Disconnected after %s without input.", m.idle))
		}
		if m.bye != "" {
			return m, nil
		}
		return m, m.tick()
	case goodbyeMsg:
		return m.goodbye(msg.text)
	case quitNowMsg:
		return m, tea.Quit
	case tea.KeyMsg, tea.MouseMsg:
		m.lastInput = time.Now()
		if m.bye != "" {
			return m, nil // the screen is going away; keys no longer act
		}
		if k, ok := msg.(tea.KeyMsg); ok && m.admin != nil && k.String() == adminKey {
			m.showAdmin = !m.showAdmin
			return m, nil
		}
	}
	if m.bye != "" {
		return m, nil
	}
	mm, cmd := m.forward(msg)
	if m.report != nil {
		m.report()
	}
	return mm, cmd
}

func (m *sessionModel) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(msg)
	return m, cmd
}

func (m *sessionModel) goodbye(text string) (tea.Model, tea.Cmd) {
	if m.bye != "" {
		return m, nil
	}
	m.bye = text
	if m.onBye != nil {
		m.onBye(text)
	}
	return m, tea.Tick(goodbyeFor, func(time.Time) tea.Msg { return quitNowMsg{} })
}

func (m *sessionModel) View() string {
	if m.w == 0 || m.h == 0 {
		return ""
	}
	if m.bye != "" {
		box := m.r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(1, 3).
			Render("DeGAML Workbench\n\n" + m.bye + "\nGoodbye.")
		return m.r.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, box)
	}
	bar := m.r.NewStyle().Reverse(true).Width(m.w).MaxWidth(m.w).
		Render(strings.Join([]string{" DeGAML over SSH", m.user, "your jobs: " + m.queue}, " · "))
	if m.warn != "" {
		bar += "\n" + m.r.NewStyle().Bold(true).Foreground(lipgloss.Color("9")).Width(m.w).MaxWidth(m.w).Render(m.warn)
	}
	if m.showAdmin && m.admin != nil {
		body := m.r.NewStyle().Bold(true).Render("Admin view") + "  (" + adminKey + " to close)\n\n" + m.admin()
		return bar + "\n" + m.r.NewStyle().MaxWidth(m.w).MaxHeight(max(0, m.h-m.bar())).Render(body)
	}
	return bar + "\n" + m.inner.View()
}
