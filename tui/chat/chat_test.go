package chat

import (
	"reflect"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/adapt"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

const mcPrompt = "Ann has 12 apples and gives away 5. How many are left?\nA: 5\nB: 7\nC: 12"

// setup adapts to gsm-mc in both modes (decoupled current) and returns a
// focused chat pane.
func setup(t *testing.T) (*Model, *fakeengine.Engine, func()) {
	t.Helper()
	eng, c, settle := testutil.Fake(t)
	a := adapt.New(c)
	testutil.Exec(a, a.SetSuite("gsm-mc"), settle)
	testutil.Press(a, settle, "m", "m")
	m := New(c, a)
	m.SetSize(100, 30)
	m.FocusInput()
	return m, eng, settle
}

// The pane's bars follow the engine's rule (tasks.ParseChoice): letters for
// "A: …" lines, the option words for the built-in world's inline form, none
// for what the engine refuses to score.
func TestOptionLabels(t *testing.T) {
	if got := OptionLabels(mcPrompt); !reflect.DeepEqual(got, []string{"A", "B", "C"}) {
		t.Errorf("lines: got %v", got)
	}
	if got := OptionLabels("wx : which material is magnetic ? options iron wax answer"); !reflect.DeepEqual(got, []string{"iron", "wax"}) {
		t.Errorf("inline: got %v", got)
	}
	// The engine refuses these (no question line, indented or unspaced
	// letters, one option): drawing bars for them promised a score that
	// never came.
	for _, p := range []string{"hello", "A: only one", "B: x\nC: y", "A: x\nB: y", "Q\n  A: x\n  B: y", "Q\nA:x\nB:y", "Q options one"} {
		if got := OptionLabels(p); got != nil {
			t.Errorf("%q: %v", p, got)
		}
	}
}

// An inline question draws one bar per option word, labels aligned.
func TestInlineQuestionDrawsWordBars(t *testing.T) {
	m, _, settle := setup(t)
	testutil.Type(m, settle, "which material is magnetic ? options iron copper")
	testutil.Press(m, settle, "enter")
	v := m.transcript()
	for _, want := range []string{"P(option)", "iron   ", "copper "} {
		if !strings.Contains(ansi.Strip(v), want) {
			t.Fatalf("transcript lacks %q:\n%s", want, ansi.Strip(v))
		}
	}
}

func TestQTypesWhileFocused(t *testing.T) {
	m, _, settle := setup(t)
	testutil.Type(m, settle, "q1?")
	if m.input.Value() != "q1?" || !m.CapturesKeys() {
		t.Fatalf("input %q", m.input.Value())
	}
	m.Blur()
	if m.CapturesKeys() {
		t.Fatal("blurred input must not capture keys")
	}
}

func TestSendStreamsWithLabel(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Type(m, settle, "hello")
	testutil.Press(m, settle, "enter")
	if len(eng.Chats) != 1 || eng.Chats[0].AdaptRun == "" || eng.Chats[0].Prompt != "hello" {
		t.Fatalf("chat calls %+v", eng.Chats)
	}
	v := m.View()
	// The engine's label of the adapter that answered, after the mode, and
	// the speed the Token events report.
	for _, want := range []string{"decoupled · degaml on gsm-mc#501 · 42.0 tok/s", fakeengine.Answer} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q:\n%s", want, v)
		}
	}
	if m.input.Value() != "" {
		t.Error("input not cleared")
	}
}

// Until the engine names the adapter (no token yet), the TUI's own label
// stands in.
func TestLabelFallback(t *testing.T) {
	m, _, _ := setup(t)
	a := &answer{Label: "decoupled · degaml · run adapt-7", AdaptRun: "adapt-7", Mode: "degaml", Stream: "chat-9"}
	if got := m.answerHeader(a, nil, 100); !strings.Contains(got, "decoupled · degaml · run adapt-7") {
		t.Errorf("no stream: %q", got)
	}
	s := m.c.Store.AddStream("chat-9")
	if got := m.answerHeader(a, s, 100); !strings.Contains(got, "run adapt-7") || strings.Contains(got, "tok/s") {
		t.Errorf("stream without label: %q", got)
	}
	s.Label, s.TokensPerS = "degaml on math-mc#517", 12.5
	got := m.answerHeader(a, s, 100)
	if !strings.Contains(got, "decoupled · degaml on math-mc#517") || !strings.Contains(got, "12.5 tok/s") {
		t.Errorf("with label: %q", got)
	}
	// Too narrow for one line: label and speed wrap, nothing overflows.
	got = m.answerHeader(a, s, 20)
	testutil.AssertFits(t, got, 20, 0)
	if !strings.Contains(got, "12.5 tok/s") {
		t.Errorf("narrow: %q", got)
	}
}

func TestCompareWithOptionBars(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Type(m, settle, mcPrompt)
	testutil.Press(m, settle, "ctrl+r")
	if len(eng.Chats) != 2 || eng.Chats[0].AdaptRun == eng.Chats[1].AdaptRun || eng.Chats[0].Prompt != mcPrompt {
		t.Fatalf("compare calls %+v", eng.Chats)
	}
	v := m.View()
	for _, want := range []string{"generalization-only · degaml-gen on gsm-mc#501", "decoupled · degaml on gsm-mc#501", "P(option)", "B ", "0.80", "0.55"} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q:\n%s", want, v)
		}
	}
}

func TestGolden(t *testing.T) {
	testutil.AtSizes(t, "compare_", func(t *testing.T, w, h int) {
		m, _, settle := setup(t)
		testutil.Type(m, settle, "hello")
		testutil.Press(m, settle, "enter")
		testutil.Type(m, settle, mcPrompt)
		testutil.Press(m, settle, "ctrl+r")
		testutil.RunGolden(t, m, w, h, nil)
	})
	testutil.AtSizes(t, "empty_", func(t *testing.T, w, h int) {
		m, _, _ := setup(t)
		testutil.RunGolden(t, m, w, h, nil)
	})
}

func TestPrintable(t *testing.T) {
	in := "ok\x1b[2J\r\tx\xff\u0085\nnext"
	want := "ok\uFFFD[2J\uFFFD x\uFFFD\uFFFD\nnext"
	if got := Printable(in); got != want {
		t.Errorf("Printable(%q) = %q, want %q", in, got, want)
	}
}

// An answer that has not started says what it waits for.
func TestWaitingForPipeline(t *testing.T) {
	m, _, _ := setup(t)
	a := &answer{Label: "decoupled · degaml · run adapt-9", AdaptRun: "adapt-9", Mode: "degaml"}
	if got := joinParts(m.answerParts(a, nil, 80)); !strings.Contains(got, "…") || strings.Contains(got, "pipeline") {
		t.Errorf("idle engine: %q", got)
	}
	m.c.Store.SetStages([]api.StageStatus{{Name: "baselines", State: "running", Fraction: 0.4}})
	if got := joinParts(m.answerParts(a, nil, 80)); !strings.Contains(got, "waiting for the engine (pipeline: baselines 40%)") {
		t.Errorf("pipeline running: %q", got)
	}
}

// The answer stops at its closing bracket: the request carries the stop
// strings and the transcript holds no run-on text.
func TestAnswerStopsAtBracket(t *testing.T) {
	m, eng, settle := setup(t)
	testutil.Type(m, settle, "hello")
	testutil.Press(m, settle, "enter")
	if got := eng.Chats[0].Stop; !reflect.DeepEqual(got, Stop) {
		t.Fatalf("stop strings %q", got)
	}
	v := m.View()
	if !strings.Contains(v, "The answer is [B]") || strings.Contains(v, "]]") || strings.Contains(v, "Answer: [") {
		t.Fatalf("the answer ran on:\n%s", v)
	}
}

// Compare with a mode that has not run on the task adapts in that mode
// first, then asks; with an empty input it re-asks the last question.
func TestCompareRunsWhatItNeeds(t *testing.T) {
	eng, c, settle := testutil.Fake(t)
	a := adapt.New(c)
	testutil.Exec(a, a.SetSuite("gsm-mc"), settle) // decoupled only
	m := New(c, a)
	m.SetSize(100, 30)
	m.FocusInput()
	testutil.Type(m, settle, mcPrompt)
	// As the root does: the dashboard gets the Adapt call's outcome.
	testutil.Exec(&routed{m, a}, m.send(true), settle)
	if len(eng.Chats) != 1 {
		t.Fatalf("only the decoupled answer can start at once: %+v", eng.Chats)
	}
	last := eng.Adapts[len(eng.Adapts)-1]
	if last.Method != string(adapt.MethodGen) || last.Suite != "gsm-mc" {
		t.Fatalf("compare did not start the gen-only run: %+v", eng.Adapts)
	}
	testutil.Exec(m, m.Poll(), settle)
	if len(eng.Chats) != 2 {
		t.Fatalf("not asked after the run: %+v", eng.Chats)
	}
	if len(eng.Chats) != 2 || eng.Chats[1].Prompt != mcPrompt || eng.Chats[1].AdaptRun == eng.Chats[0].AdaptRun {
		t.Fatalf("the waiting question was not asked once the run finished: %+v", eng.Chats)
	}
	testutil.Press(m, settle, "ctrl+r") // empty input: the last question again
	if len(eng.Chats) != 4 || eng.Chats[3].Prompt != mcPrompt {
		t.Fatalf("ctrl+r on an empty input: %+v", eng.Chats)
	}
}

// routed sends the dashboard's messages to it, the rest to the chat.
type routed struct {
	*Model
	a *adapt.Model
}

func (r *routed) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	if _, ok := msg.(adapt.StartedMsg); ok {
		_, cmd := r.a.Update(msg)
		return r, cmd
	}
	_, cmd := r.Model.Update(msg)
	return r, cmd
}

// An answer that ends before any text (the model emits end-of-text at once)
// says so instead of showing a blank line under its header.
func TestEmptyAnswerIsNamed(t *testing.T) {
	m, _, _ := setup(t)
	a := &answer{Label: "decoupled · degaml · run adapt-7", AdaptRun: "adapt-7", Mode: "degaml", Stream: "chat-9"}
	s := m.c.Store.AddStream("chat-9")
	s.Label, s.Done = "degaml on arc-easy#501", true
	if got := joinParts(m.answerParts(a, nil, 100)); !strings.Contains(got, EmptyAnswer) {
		t.Errorf("empty done answer: %q", got)
	}
	s.Text = " tin"
	if got := joinParts(m.answerParts(a, nil, 100)); strings.Contains(got, EmptyAnswer) || !strings.Contains(got, "tin") {
		t.Errorf("answer with text: %q", got)
	}
}

// A question to a mode whose adaptation was cancelled says so instead of
// asking the engine for an adapter that was never made.
func TestCancelledAdaptationIsNotAsked(t *testing.T) {
	m, eng, settle := setup(t)
	sel := m.c.Store.Sel
	m.c.Store.AddRun("adapt-99", sel.Request(sel.Mode)) // newer than the finished run
	m.c.Store.Apply([]events.Event{{Kind: events.Canceled, Run: "adapt-99", Message: "interrupted"}})
	testutil.Type(m, settle, "hello")
	testutil.Press(m, settle, "enter")
	if len(eng.Chats) != 0 {
		t.Fatalf("asked the engine: %+v", eng.Chats)
	}
	if v := ansi.Strip(m.transcript()); !strings.Contains(v, "cancelled") {
		t.Fatalf("transcript does not say cancelled:\n%s", v)
	}
}
