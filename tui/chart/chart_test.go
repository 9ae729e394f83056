package chart

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
	"github.com/degaml/workbench/tui/state"
)

func TestGoldenTwoSeries(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	var a, b []state.Point
	for i := 1; i <= 30; i++ {
		x := float64(i)
		a = append(a, state.Point{X: x, Y: 2 * math.Exp(-x/8)})
		b = append(b, state.Point{X: x, Y: 0.3 + 0.5*(1-math.Exp(-x/6))})
	}
	s := []Series{{Name: "loss", Points: a, Style: st.SeriesStyle(0)}, {Name: "acc", Points: b, Style: st.SeriesStyle(1)}}
	out := Render(st, 60, 14, s) + "\n" + Legend(s, 60)
	golden.RequireEqual(t, []byte(out))
}

func TestDegenerateData(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	for _, s := range [][]Series{nil, {{Name: "one", Points: []state.Point{{X: 1, Y: 0.5}}}}, {{Name: "nan", Points: []state.Point{{X: 1, Y: math.NaN()}, {X: 2, Y: 1}}}}} {
		if out := Render(st, 40, 8, s); strings.Count(out, "\n") != 7 {
			t.Errorf("%v: %d lines", s, strings.Count(out, "\n")+1)
		}
	}
	if Render(st, 5, 2, nil) != "" {
		t.Error("tiny chart should render nothing")
	}
}
