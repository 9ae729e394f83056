package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

// newManual returns a root model sized w×h whose events are pumped by the
// test (update-level tests: no goroutines, no timing).
func newManual(t testing.TB, w, h int) (*Model, *fakeengine.Engine) {
	t.Helper()
	eng := fakeengine.New()
	m := New(testutil.Common(t, eng))
	m.manual = true
	t.Cleanup(m.Close)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	run(t, m, m.Init())
	return m, eng
}

// run executes cmd and feeds resulting messages back into m, recursively,
// as the Bubble Tea runtime would (batches included).
func run(t testing.TB, m *Model, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		return
	}
	msg := cmd()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			run(t, m, c)
		}
	case tea.QuitMsg:
	default:
		_, next := m.Update(msg)
		run(t, m, next)
	}
	pump(t, m)
}

// pump delivers every pending bus event as one batch.
func pump(t testing.TB, m *Model) {
	t.Helper()
	if evs := m.sub.Drain(); len(evs) > 0 {
		_, cmd := m.Update(EventsMsg{Events: evs})
		run(t, m, cmd)
	}
}

// press sends keys ("q", "tab", "ctrl+c", "enter", …) one at a time.
func press(t testing.TB, m *Model, keys ...string) tea.Cmd {
	t.Helper()
	var last tea.Cmd
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		last = cmd
		if isQuit(cmd) {
			continue
		}
		run(t, m, cmd)
	}
	return last
}

func keyMsg(k string) tea.KeyMsg { return testutil.Key(k) }

// typeText types s rune by rune (newlines as ctrl+j).
func typeText(t testing.TB, m *Model, s string) {
	t.Helper()
	for _, r := range s {
		if r == '\n' {
			press(t, m, "ctrl+j")
			continue
		}
		press(t, m, string(r))
	}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		_, ok := msg.(tea.QuitMsg)
		return ok
	case <-time.After(time.Second):
		return false
	}
}
