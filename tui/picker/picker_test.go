package picker

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func TestGolden(t *testing.T) {
	testutil.AtSizes(t, "", func(t *testing.T, w, h int) {
		_, c, _ := testutil.Fake(t)
		testutil.RunGolden(t, New(c), w, h, nil)
	})
}

// A filter narrows the list. Set synchronously: typed filters are matched
// asynchronously by bubbles/list, and stale matches make goldens flaky.
func TestGoldenFilter(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	m := New(c)
	m.list.SetFilterText("math-mc")
	testutil.RunGolden(t, m, 120, 40, nil)
}

func TestGroupsAndEnter(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	m := New(c)
	m.SetSize(120, 40)
	roles := ""
	for _, it := range m.list.Items() {
		roles += it.(item).s.Role[:1]
	}
	if roles != "iiiiiioooooou" {
		t.Fatalf("grouping: %s", roles)
	}
	_, cmd := m.Update(testutil.Key("enter"))
	if msg, ok := cmd().(common.SuiteSelectedMsg); !ok || msg.Suite != "arc-c" {
		t.Fatalf("enter: %#v", msg)
	}
	m.Update(testutil.Key("/"))
	if !m.CapturesKeys() {
		t.Fatal("filter input should capture keys")
	}
}

// "/ma" finds the math suites only (a fuzzy match would take every suite
// whose role "in-domain" holds an m and an a).
func TestFilterIsSubstring(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	m := New(c)
	m.SetSize(120, 40)
	m.list.SetFilterText("ma")
	var got []string
	for _, it := range m.list.VisibleItems() {
		got = append(got, it.(item).s.Name)
	}
	if strings.Join(got, ",") != "math-mc,gsm-mc" { // name matches first
		t.Fatalf("/ma matched %v", got)
	}
	m.list.SetFilterText("out")
	if n := len(m.list.VisibleItems()); n != 6 {
		t.Fatalf("/out matched %d suites, want the 6 out-of-domain ones", n)
	}
}

// The wheel moves the selection; a click selects the task under the
// pointer; a click on the selected task adapts to it.
func TestMouse(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	m := New(c)
	m.SetSize(120, 38)
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if s, _ := m.Selected(); s.Name != "arc-e" {
		t.Fatalf("wheel down selected %s", s.Name)
	}
	// Screen row of the third item's title: tab bar, list top, 2 items.
	y := 1 + listTop + 2*newDelegateHeight + 1
	if _, cmd := m.Update(tea.MouseMsg{X: 5, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress}); cmd != nil {
		t.Fatal("a first click only selects")
	}
	if s, _ := m.Selected(); s.Name != "hellaswag" {
		t.Fatalf("click selected %s", s.Name)
	}
	_, cmd := m.Update(tea.MouseMsg{X: 5, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if cmd == nil {
		t.Fatal("a click on the selected task should adapt to it")
	}
	if msg, ok := cmd().(common.SuiteSelectedMsg); !ok || msg.Suite != "hellaswag" {
		t.Fatalf("click: %#v", msg)
	}
	// The rendered row under the pointer is that task.
	lines := strings.Split(m.View(), "\n")
	if !strings.Contains(lines[y-1], "hellaswag") {
		t.Fatalf("row %d of the pane is %q", y-1, lines[y-1])
	}
}
