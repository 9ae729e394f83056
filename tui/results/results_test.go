package results

import (
	tea "github.com/charmbracelet/bubbletea"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func TestGolden(t *testing.T) {
	testutil.AtSizes(t, "", func(t *testing.T, w, h int) {
		_, c, _ := testutil.Fake(t)
		testutil.RunGolden(t, New(c), w, h, func(tm *teatest.TestModel) {
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "degaml") },
				teatest.WithDuration(3*time.Second))
		})
	})
}

func TestScrollAndCell(t *testing.T) {
	c := testutil.Common(t, fakeengine.New())
	m := New(c)
	m.SetSize(80, 24)
	testutil.Exec(m, m.Init(), nil)
	if !strings.Contains(m.View(), "suites 1–") {
		t.Fatal("expected a scroll hint at 80 columns")
	}
	testutil.Press(m, nil, "l", "l")
	if m.col != 2 || !strings.Contains(m.View(), "boolq") || strings.Contains(m.View(), "arc-c ") {
		t.Fatalf("scroll: col=%d\n%s", m.col, m.View())
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if m.col != 1 {
		t.Fatalf("wheel up: col=%d", m.col)
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if m.col != 2 {
		t.Fatalf("wheel down: col=%d", m.col)
	}
	if got := Cell(m.t.Rows[0].Cells[11]); got != "—" { // nometa-lora has no OOD runs
		t.Errorf("empty cell = %q", got)
	}
	if got := Cell(m.t.Rows[4].Cells[0]); got != "55.5±2.1" {
		t.Errorf("cell = %q", got)
	}
	if got := Cell(api.BenchCell{Mean: 0.5, CI95: 0.1, N: 3, Flagged: 1}); got != "50.0±10.0‡" {
		t.Errorf("a cell with a flagged run = %q, want it marked", got)
	}
}

// Adaptation results of the session are listed under the bench table.
func TestSessionRuns(t *testing.T) {
	eng, c, settle := testutil.Fake(t)
	m := New(c)
	m.SetSize(80, 24)
	testutil.Exec(m, m.Init(), nil)
	if strings.Contains(m.View(), "This session") {
		t.Fatal("session table without runs")
	}
	for _, method := range []string{"degaml", "degaml-gen"} {
		if _, err := eng.Adapt(t.Context(), api.AdaptRequest{Suite: "math-mc", Method: method, Seed: 1}); err != nil {
			t.Fatal(err)
		}
	}
	settle()
	v := m.View()
	testutil.AssertFits(t, v, 80, 24)
	for _, want := range []string{"This session", "degaml-gen", "math-mc#501", "0.610", "0.520"} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q:\n%s", want, v)
		}
	}
}
