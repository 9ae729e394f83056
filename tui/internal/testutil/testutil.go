// Package testutil holds what TUI tests share: an uncoloured renderer, a
// Common on the fake engine, and Host, which runs one component under
// teatest so every component gets golden files of its own.
package testutil

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/themes"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/muesli/termenv"
)

// Renderer renders without colour (termenv.Ascii) on a dark background, so
// golden files hold plain text.
func Renderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// Common returns a Common on eng with the dark theme, mouse on.
func Common(t testing.TB, eng *fakeengine.Engine) *common.Common {
	t.Helper()
	th, err := themes.Load("dark")
	if err != nil {
		t.Fatal(err)
	}
	return common.New(t.Context(), eng, Renderer(), th, common.Config{Mouse: true})
}

// Fake is the set-up most component tests start from: a fake engine, a
// Common on it, and the Collect func that folds its events into the store.
func Fake(t testing.TB) (*fakeengine.Engine, *common.Common, func()) {
	t.Helper()
	eng := fakeengine.New()
	c := Common(t, eng)
	return eng, c, Collect(c, eng)
}

// Collect subscribes to eng's bus; call the returned func to fold every
// pending event into c.Store (what the root model does per frame).
func Collect(c *common.Common, eng *fakeengine.Engine) func() {
	sub := eng.Bus().Subscribe(events.Coalesce)
	return func() { c.Store.Apply(sub.Drain()) }
}

// Host runs one component as a tea.Model.
type Host struct{ C common.Component }

// Init implements tea.Model.
func (h *Host) Init() tea.Cmd { return h.C.Init() }

// Update implements tea.Model; quits on ctrl+c.
func (h *Host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.C.SetSize(msg.Width, msg.Height)
	case tea.KeyMsg:
		if msg.Type == tea.KeyCtrlC {
			return h, tea.Quit
		}
	}
	c, cmd := h.C.Update(msg)
	h.C = c
	return h, cmd
}

// View implements tea.Model.
func (h *Host) View() string { return h.C.View() }

// RunGolden runs c under teatest at w×h, applies drive (keys etc.), quits
// and compares the final view with testdata/<test name>.golden.
func RunGolden(t *testing.T, c common.Component, w, h int, drive func(tm *teatest.TestModel)) {
	t.Helper()
	tm := teatest.NewTestModel(t, &Host{C: c}, teatest.WithInitialTermSize(w, h))
	if drive != nil {
		drive(tm)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
	AssertFits(t, fm.View(), w, h)
	golden.RequireEqual(t, []byte(fm.View()))
}

// Drive runs cmd synchronously as the Bubble Tea runtime would, with no
// goroutines and no timing: each message it yields goes to update, whose
// command is driven in turn (batches included), and settle (nil: none) runs
// after each message (e.g. folding pending events in). It reports whether a
// tea.Quit came out. The one update driver of the TUI tests: Exec uses it
// for a component, the root model's tests for the whole app.
func Drive(cmd tea.Cmd, update func(tea.Msg) tea.Cmd, settle func()) (quit bool) {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.QuitMsg:
		quit = true
	case tea.BatchMsg:
		for _, sub := range msg {
			quit = Drive(sub, update, settle) || quit
		}
	default:
		next := update(msg)
		if settle != nil {
			settle()
		}
		quit = Drive(next, update, settle)
	}
	if settle != nil {
		settle()
	}
	return quit
}

// Exec drives cmd into the component c (see Drive) and returns c as it ends.
func Exec(c common.Component, cmd tea.Cmd, settle func()) common.Component {
	Drive(cmd, func(msg tea.Msg) tea.Cmd {
		var next tea.Cmd
		c, next = c.Update(msg)
		return next
	}, settle)
	return c
}

// Key builds a key message: "enter", "esc", "down", "up", "ctrl+r",
// "ctrl+j", " " or runes.
func Key(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "ctrl+r":
		return tea.KeyMsg{Type: tea.KeyCtrlR}
	case "ctrl+j":
		return tea.KeyMsg{Type: tea.KeyCtrlJ}
	case "ctrl+x":
		return tea.KeyMsg{Type: tea.KeyCtrlX}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// Press sends keys to c through Exec.
func Press(c common.Component, settle func(), keys ...string) common.Component {
	for _, k := range keys {
		var cmd tea.Cmd
		c, cmd = c.Update(Key(k))
		c = Exec(c, cmd, settle)
	}
	return c
}

// Type types s rune by rune; "\n" becomes ctrl+j (a newline in the chat box).
func Type(c common.Component, settle func(), s string) common.Component {
	for _, r := range s {
		k := string(r)
		if r == '\n' {
			k = "ctrl+j"
		}
		c = Press(c, settle, k)
	}
	return c
}

// Sizes are the two terminal sizes every golden file is made at.
var Sizes = [][2]int{{120, 40}, {80, 24}}

// AtSizes runs f as the subtest name+"WxH" at each of Sizes; the subtest's
// name is its golden file's.
func AtSizes(t *testing.T, name string, f func(t *testing.T, w, h int)) {
	t.Helper()
	for _, sz := range Sizes {
		t.Run(fmt.Sprintf("%s%dx%d", name, sz[0], sz[1]), func(t *testing.T) { f(t, sz[0], sz[1]) })
	}
}

// AssertFits fails t when a line of view is wider than w columns or view
// has more than h lines (h <= 0: no height check). A pane's line that is
// too wide is wrapped again by the screen into the next line's first
// column, which breaks side-by-side layouts.
func AssertFits(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, lw, w, ansi.Strip(l))
		}
	}
	if h > 0 && len(lines) > h {
		t.Errorf("%d lines, more than %d", len(lines), h)
	}
}
