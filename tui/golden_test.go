package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

// screen is how a fresh model reaches one of the main screens.
type screen struct {
	name string
	keys []string
	text string // typed after keys
	then []string
}

// screens are the main screens.
var screens = []screen{
	{name: "tasks"},
	{name: "pipeline", keys: []string{"2"}},
	{name: "adapt_decoupled", keys: []string{"down", "down", "down", "down", "down", "down", "enter"}},
	{name: "adapt_gen_baselines", keys: []string{"enter", "m", "b", " ", "down", "down", " ", "esc"}},
	{name: "chat_compare", keys: []string{"enter", "m", "m", "4", "i"}, text: "Which is prime?\nA: 4\nB: 7\nC: 9", then: []string{"ctrl+r"}},
	{name: "results", keys: []string{"5"}},
	{name: "knobs", keys: []string{"6", "down"}},
	{name: "help", keys: []string{"3", "?"}},
}

// openScreen drives a fresh w×h model to sc.
func openScreen(t *testing.T, sc screen, w, h int) *Model {
	t.Helper()
	m, _ := newManual(t, w, h)
	press(t, m, sc.keys...)
	typeText(t, m, sc.text)
	press(t, m, sc.then...)
	return m
}

// TestGoldenScreens renders every main screen at 120×40 and 80×24 with the
// update-level driver (deterministic: no goroutines).
func TestGoldenScreens(t *testing.T) {
	for _, sz := range testutil.Sizes {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m := openScreen(t, sc, sz[0], sz[1])
				golden.RequireEqual(t, []byte(m.View()))
			})
		}
	}
}

func TestGoldenTooSmall(t *testing.T) {
	m, _ := newManual(t, 59, 19)
	golden.RequireEqual(t, []byte(m.View()))
}

// TestTeatestFlow runs the real program loop (event subscription Cmd,
// frame batching) against the fake engine: pick gsm-mc, toggle to
// generalization-only, and compare the final screen.
func TestTeatestFlow(t *testing.T) {
	old := FrameInterval
	FrameInterval = 5 * time.Millisecond
	t.Cleanup(func() { FrameInterval = old })
	testutil.AtSizes(t, "", func(t *testing.T, w, h int) {
		m := New(testutil.Common(t, fakeengine.New()))
		t.Cleanup(m.Close)
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
		waitFor(t, tm, "Pipeline: generator 40%")
		for _, k := range []string{"down", "down", "down", "down", "down", "down", "enter"} {
			tm.Send(testutil.Key(k))
		}
		waitFor(t, tm, "Result: acc 0.610")
		tm.Send(testutil.Key("m"))
		waitFor(t, tm, "Result: acc 0.520")
		// q asks (the fake pipeline is training), y confirms.
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")})
		fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
		golden.RequireEqual(t, []byte(fm.View()))
	})
}

func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), s) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// Every pane wraps its own text to the body size: the root cuts what is
// still too wide, so an overflowing pane would lose text silently.
func TestPanesFitBody(t *testing.T) {
	for _, sz := range append(testutil.Sizes, [2]int{MinWidth, MinHeight}) {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m := openScreen(t, sc, sz[0], sz[1])
				bw, bh := m.bodySize()
				body := m.panes[m.active].View()
				if m.full {
					body = m.fullHelp()
				}
				testutil.AssertFits(t, body, bw, bh)
			})
		}
	}
}
