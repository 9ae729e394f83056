package tui

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/themes"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/muesli/termenv"
)

// Every style must come from the session's renderer: with the global
// renderer forced to TrueColor and ours to ASCII, any escape code in the
// output is a style that leaked onto the global renderer (which, over SSH,
// would paint with the server's terminal profile).
func TestNoGlobalRendererLeaks(t *testing.T) {
	prev := lipgloss.ColorProfile()
	lipgloss.SetColorProfile(termenv.TrueColor)
	t.Cleanup(func() { lipgloss.SetColorProfile(prev) })
	for _, sc := range screens {
		m, _ := newManual(t, 120, 40)
		press(t, m, sc.keys...)
		typeText(t, m, sc.text)
		press(t, m, sc.then...)
		if v := m.View(); strings.Contains(v, "\x1b[") {
			i := strings.Index(v, "\x1b[")
			t.Errorf("%s: escape code at %q", sc.name, v[max(0, i-40):min(len(v), i+20)])
		}
	}
}

// With a colour renderer the themes do paint; monochrome does not.
func TestThemesPaint(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, name := range themes.Names() {
		th, err := themes.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.TrueColor)
		c := NewCommon(t.Context(), fakeengine.New(), r, th, common.Config{})
		m := New(c)
		m.manual = true
		m.Update(windowSize(120, 40))
		v := m.View()
		hasColour := strings.Contains(v, "\x1b[38;2") || strings.Contains(v, "\x1b[38;5") || strings.Contains(v, "\x1b[9")
		if th.Mono == hasColour {
			t.Errorf("%s: mono=%v but colour=%v", name, th.Mono, hasColour)
		}
		m.Close()
	}
}
