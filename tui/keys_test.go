package tui

import (
	"github.com/degaml/workbench/core/api"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/tui/adapt"
)

func TestQuitKeys(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	// The fake pipeline is training: q asks first; any key but y/q stays.
	if press(t, m, "q") || !strings.Contains(m.View(), "Quit while the pipeline trains (generator 40%)?") {
		t.Fatalf("q during training should ask:\n%s", m.View())
	}
	if press(t, m, "n") || strings.Contains(m.View(), "Quit while") {
		t.Fatal("n should cancel the question")
	}
	if !(press(t, m, "q", "y")) {
		t.Fatal("q then y should quit")
	}
	press(t, m, "4", "i") // chat: input focused
	if !(press(t, m, "ctrl+c")) {
		t.Fatal("ctrl+c must always quit")
	}
}

func TestQTypesIntoChatInput(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	press(t, m, "tab", "tab", "tab", "i")
	if m.Active() != PaneChat {
		t.Fatalf("active = %v", m.Active().Title())
	}
	for _, k := range []string{"q", "1", "?"} {
		if press(t, m, k) {
			t.Fatalf("%q quit from the chat input", k)
		}
	}
	if m.Active() != PaneChat || m.full {
		t.Fatal("digits/? must type, not switch pane or open help")
	}
	if !strings.Contains(m.View(), "q1?") {
		t.Fatal("typed text not in the input")
	}
	press(t, m, "esc") // leaves the input, stays on chat
	if m.Active() != PaneChat || m.chat.CapturesKeys() {
		t.Fatal("esc should blur the input first")
	}
	if !(press(t, m, "q", "q")) { // asked while training, q again confirms
		t.Fatal("q should quit once the input is blurred")
	}
}

func TestQTypesIntoFilterAndKnobs(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	press(t, m, "/")
	if (press(t, m, "q")) || !m.picker.CapturesKeys() {
		t.Fatal("q must type into the list filter")
	}
	press(t, m, "esc") // clears the filter, stays on tasks
	if m.Active() != PaneTasks || m.picker.Filtering() {
		t.Fatal("esc should clear the filter")
	}
	press(t, m, "6")
	if m.Active() != PaneKnobs || (press(t, m, "q")) {
		t.Fatal("q must type into a knobs field")
	}
}

func TestTabCyclesAndEscGoesBack(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	var seen []string
	for range numPanes {
		seen = append(seen, m.Active().Title())
		press(t, m, "tab")
	}
	if strings.Join(seen, ",") != "Tasks,Pipeline,Adapt,Chat,Results,Knobs" || m.Active() != PaneTasks {
		t.Fatalf("tab order %v, back at %v", seen, m.Active().Title())
	}
	press(t, m, "shift+tab")
	if m.Active() != PaneKnobs {
		t.Fatalf("shift+tab wraps to %v", m.Active().Title())
	}
	press(t, m, "esc", "esc") // knobs field → back to Tasks (history)
	if m.Active() != PaneTasks {
		t.Fatalf("esc: %v", m.Active().Title())
	}
	press(t, m, "3", "5", "esc")
	if m.Active() != PaneAdapt {
		t.Fatalf("esc after 3,5: %v", m.Active().Title())
	}
}

func TestHelpToggle(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	press(t, m, "?")
	if !m.full || !strings.Contains(m.View(), "Help — Tasks") {
		t.Fatal("? should show full help")
	}
	press(t, m, "esc")
	if m.full || m.Active() != PaneTasks {
		t.Fatal("esc closes help first")
	}
}

func TestPickTaskToggleModeSameSeed(t *testing.T) {
	m, eng := newManual(t, 120, 40)
	press(t, m, "down", "enter") // arc-e
	if m.Active() != PaneAdapt || !strings.Contains(m.View(), "Mode: decoupled") || !strings.Contains(m.View(), "Task: arc-e") {
		t.Fatalf("after enter:\n%s", m.View())
	}
	press(t, m, "m")
	if !strings.Contains(m.View(), "Mode: generalization-only") {
		t.Fatal("mode label did not change")
	}
	// decoupled, base (the reference line), then gen-only: one world.
	if len(eng.Adapts) != 3 || eng.Adapts[0].Seed != eng.Adapts[2].Seed || eng.Adapts[0].Suite != eng.Adapts[2].Suite ||
		eng.Adapts[2].Method != string(adapt.MethodGen) {
		t.Fatalf("requests %+v", eng.Adapts)
	}
	var both int
	for _, s := range m.Adapt().Series() {
		if strings.HasPrefix(s.Name, "gen-only ") || strings.HasPrefix(s.Name, "decoupled ") {
			both++
		}
	}
	if both < 4 {
		t.Fatalf("both modes' curves expected on the chart, got %d series", both)
	}
	// The status line on other screens shows the mode too.
	press(t, m, "2")
	if !strings.Contains(m.View(), "Mode: generalization-only") || !strings.Contains(m.View(), "Pipeline: generator 40%") {
		t.Fatalf("status line:\n%s", m.View())
	}
}

func TestKnobsRerun(t *testing.T) {
	m, eng := newManual(t, 120, 40)
	press(t, m, "enter", "6")
	typeText(t, m, "7")
	press(t, m, "down", "down", "down", "down")
	for range 3 {
		press(t, m, "backspace")
	}
	typeText(t, m, "9")
	press(t, m, "enter")
	last := eng.Adapts[len(eng.Adapts)-2] // then the base model's reference run
	if m.Active() != PaneAdapt || last.Seed != 9 || last.Knobs.InnerSteps != 7 || last.Method != "degaml" {
		t.Fatalf("re-run %+v on %v", last, m.Active().Title())
	}
	if !strings.Contains(m.View(), "Seed: 9") || !strings.Contains(m.View(), "steps=7") {
		t.Fatalf("labels:\n%s", m.View())
	}
}

func TestTooSmall(t *testing.T) {
	m, _ := newManual(t, 59, 20)
	if !strings.Contains(m.View(), "Terminal too small") {
		t.Fatal("59×20 should be too small")
	}
	if (press(t, m, "3")) || m.Active() != PaneTasks {
		t.Fatal("keys other than quit are ignored while too small")
	}
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	if strings.Contains(m.View(), "too small") {
		t.Fatal("60×20 is enough")
	}
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 19})
	if !strings.Contains(m.View(), "too small") || !(press(t, m, "q")) {
		t.Fatal("q quits from the too-small screen")
	}
}

func TestMouseClickTab(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	bar := m.tabBar()
	x := strings.Index(bar, "4 Chat")
	m.Update(tea.MouseMsg{X: x + 2, Y: 0, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if m.Active() != PaneChat {
		t.Fatalf("click on the Chat tab: %v", m.Active().Title())
	}
	m.c.Config.Mouse = false
	m.Update(tea.MouseMsg{X: 2, Y: 0, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if m.Active() != PaneChat {
		t.Fatal("mouse off: clicks ignored")
	}
}

// Keys that arrive in one read (tmux send-keys, fast typing over SSH) come
// as one KeyMsg with several runes; each must still act as a key.
func TestCoalescedRunes(t *testing.T) {
	m, eng := newManual(t, 120, 40)
	press(t, m, "/math-mc") // one message: "/" opens the filter, the rest types into it
	if !m.picker.CapturesKeys() || !strings.Contains(m.View(), "Filter: math-mc") {
		t.Fatalf("filter capturing %v:\n%s", m.picker.CapturesKeys(), m.View())
	}
	press(t, m, "esc", "esc")
	press(t, m, "3m") // Adapt, then toggle the mode
	if m.Active() != PaneAdapt || m.c.Store.Sel.Mode != adapt.MethodGen {
		t.Fatalf("pane %s, mode %s", m.Active().Title(), m.c.Store.Sel.Mode)
	}
	press(t, m, "4ihi q") // chat, i focuses its input: the rest is text, q included
	if !strings.Contains(m.View(), "hi q") || len(eng.Chats) != 0 {
		t.Fatalf("chat input:\n%s", m.View())
	}
	// A paste stays one message (the input gets it whole).
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("PASTED"), Paste: true})
	if !strings.Contains(m.View(), "hi qPASTED") {
		t.Fatalf("paste:\n%s", m.View())
	}
}

// "Which world?": the picker's preview, the dashboard's header and the
// engine name the same instance, and follow a new seed together.
func TestOneWorldEverywhere(t *testing.T) {
	m, eng := newManual(t, 120, 40)
	press(t, m, "enter", "n", "1")
	w, _ := eng.World("arc-c", 2)
	v := m.View()
	if !strings.Contains(v, "Instance: "+w.Task) || !strings.Contains(v, "instance = 502") || !strings.Contains(v, w.Show) {
		t.Fatalf("picker does not show the selected world %s:\n%s", w.Task, v)
	}
	press(t, m, "3")
	if v := m.View(); !strings.Contains(v, "("+w.Task+")") || !strings.Contains(v, "Seed: 2") {
		t.Fatalf("dashboard names another world:\n%s", v)
	}
	if last := eng.Adapts[len(eng.Adapts)-1]; last.Seed != 2 || last.Suite != "arc-c" {
		t.Fatalf("runs another world: %+v", last)
	}
}

// Entering Chat with a digit does not focus its input: the next digit
// switches pane instead of typing.
func TestDigitsSwitchFromChat(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	press(t, m, "4", "5")
	if m.Active() != PaneResults {
		t.Fatalf("4 then 5 left %s active", m.Active().Title())
	}
}

// With nothing training, q quits at once.
func TestQuitWithoutTraining(t *testing.T) {
	m, _ := newManual(t, 120, 40)
	m.c.Store.SetStages([]api.StageStatus{{Name: "generator", State: "done", Fraction: 1}})
	if !press(t, m, "q") {
		t.Fatal("q should quit when nothing trains")
	}
}

// With the baseline picker open, esc closes it: the footer says so once,
// not "esc/b close" beside "esc back".
func TestSelectorFooterNamesEscOnce(t *testing.T) {
	m, _ := newManual(t, 160, 40)
	press(t, m, "enter") // the first suite, on Adapt
	press(t, m, "b")
	if !m.adapt.SelectorOpen() {
		t.Fatal("b did not open the baseline picker")
	}
	foot := ansi.Strip(m.footer())
	if !strings.Contains(foot, "esc/b close") || strings.Contains(foot, "esc back") {
		t.Fatalf("footer %q", foot)
	}
	press(t, m, "esc")
	if m.adapt.SelectorOpen() || m.Active() != PaneAdapt {
		t.Fatal("esc should close the picker and stay on Adapt")
	}
	if foot := ansi.Strip(m.footer()); !strings.Contains(foot, "esc back") {
		t.Fatalf("footer after closing %q", foot)
	}
}
