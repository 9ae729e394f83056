package knobs

import (
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func newForm(t *testing.T) *Model {
	c := testutil.Common(t, fakeengine.New())
	m := New(c, func() (api.Knobs, int64) { return api.Knobs{Rank: 8}, 3 })
	m.SetSize(100, 30)
	m.Focus()
	return m
}

func TestParse(t *testing.T) {
	k, seed, err := Parse([]string{"20", "1e-4", "", "16", "42"})
	if err != nil || seed != 42 || k != (api.Knobs{InnerSteps: 20, LR: 1e-4, Support: 16}) {
		t.Fatalf("%+v %d %v", k, seed, err)
	}
	for _, bad := range [][]string{{"x", "", "", "", "1"}, {"", "2", "", "", "1"}, {"", "", "999", "", "1"}, {"", "", "", "", ""}} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestSubmit(t *testing.T) {
	m := newForm(t)
	if got := m.Values(); got[2] != "8" || got[4] != "3" {
		t.Fatalf("loaded %v", got)
	}
	testutil.Type(m, nil, "12")
	var c common.Component = m
	c, cmd := c.Update(testutil.Key("enter"))
	msg, ok := cmd().(common.KnobsAppliedMsg)
	if !ok || msg.Seed != 3 || msg.Knobs != (api.Knobs{InnerSteps: 12, Rank: 8}) {
		t.Fatalf("%#v", msg)
	}
	_ = c
}

func TestInvalidBlocksSubmit(t *testing.T) {
	m := newForm(t)
	testutil.Press(m, nil, "down")
	testutil.Type(m, nil, "fast")
	if m.errs[1] == "" {
		t.Fatal("no inline error")
	}
	_, cmd := m.Update(testutil.Key("enter"))
	if cmd != nil || m.formErr == "" {
		t.Fatal("invalid form submitted")
	}
}

func TestGolden(t *testing.T) {
	testutil.AtSizes(t, "", func(t *testing.T, w, h int) {
		m := newForm(t)
		testutil.Press(m, nil, "down")
		testutil.Type(m, nil, "fast")
		testutil.Press(m, nil, "enter", "down")
		testutil.RunGolden(t, m, w, h, nil)
	})
}
