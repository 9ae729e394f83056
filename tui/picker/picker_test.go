package picker

import (
	"fmt"
	"testing"

	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func TestGolden(t *testing.T) {
	for _, sz := range testutil.Sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			c := testutil.Common(t, fakeengine.New())
			testutil.RunGolden(t, New(c), sz[0], sz[1], nil)
		})
	}
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
