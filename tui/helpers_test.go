package tui

import (
	"testing"

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

// run drives cmd into the root model (testutil.Drive), delivering pending
// bus events after each message. It reports whether a tea.Quit came out.
func run(t testing.TB, m *Model, cmd tea.Cmd) (quit bool) {
	t.Helper()
	return testutil.Drive(cmd, func(msg tea.Msg) tea.Cmd { _, next := m.Update(msg); return next }, func() { pump(t, m) })
}

// pump delivers every pending bus event as one batch.
func pump(t testing.TB, m *Model) {
	t.Helper()
	if evs := m.sub.Drain(); len(evs) > 0 {
		_, cmd := m.Update(EventsMsg{Events: evs})
		run(t, m, cmd)
	}
}

// press sends keys ("q", "tab", "ctrl+c", "enter", …) one at a time and
// reports whether the last one quit.
func press(t testing.TB, m *Model, keys ...string) (quit bool) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		quit = run(t, m, cmd)
	}
	return quit
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

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
