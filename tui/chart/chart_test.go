package chart

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
	"github.com/degaml/workbench/tui/state"
)

func curves(t *testing.T) Panel {
	st := testutil.Common(t, fakeengine.New()).Styles
	var a, b []state.Point
	for i := 1; i <= 12; i++ {
		x := float64(i)
		a = append(a, state.Point{X: x, Y: 0.3 + 0.5*(1-math.Exp(-x/4))})
		b = append(b, state.Point{X: x, Y: 0.25 + 0.1*math.Sin(x)})
	}
	return Panel{Title: "Accuracy", XLabel: "step", YMin: 0, YMax: 1, YFixed: true,
		Refs: []Ref{{Y: 0.25, Label: "chance 0.25", Glyph: '.'}, {Y: 0.4, Label: "base 0.40", Glyph: '-'}},
		Series: []Series{
			{Name: "decoupled acc", Points: a, Glyph: '*', Style: st.SeriesStyle(1)},
			{Name: "maml acc", Points: b, Glyph: '#', Style: st.SeriesStyle(4), Dashed: true},
		}}
}

func TestGoldenAccuracyPanel(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	p := curves(t)
	out := Render(st, 60, 16, p) + "\n" + Legend(st, p.Series, 60)
	golden.RequireEqual(t, []byte(out))
}

var yTick = regexp.MustCompile(`^\s*(-?[0-9.]+) ┤`)

// The y axis of a fixed panel is exactly [0,1] whatever the data (values
// outside are clamped), with ticks on evenly spaced rows.
func TestFixedAxisEvenTicks(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	p := curves(t)
	p.Series[1].Points = append(p.Series[1].Points, state.Point{X: 13, Y: -0.3})
	for _, h := range []int{8, 11, 16, 23, 30} {
		out := ansi.Strip(Render(st, 60, h, p))
		lines := strings.Split(out, "\n")
		if len(lines) != h {
			t.Fatalf("h=%d: %d lines", h, len(lines))
		}
		var rows []int
		var labels []string
		for i, l := range lines {
			if m := yTick.FindStringSubmatch(l); m != nil {
				rows, labels = append(rows, i), append(labels, m[1])
			}
		}
		if labels[0] != "1.00" && labels[0] != "1.0" || labels[len(labels)-1] != "0.00" && labels[len(labels)-1] != "0.0" {
			t.Errorf("h=%d: axis %v, want 1 … 0", h, labels)
		}
		for i := 2; i < len(rows); i++ {
			if rows[i]-rows[i-1] != rows[1]-rows[0] {
				t.Errorf("h=%d: uneven tick rows %v", h, rows)
			}
		}
		if strings.Contains(out, "-0.") {
			t.Errorf("h=%d: negative tick on a fixed axis:\n%s", h, out)
		}
	}
}

// X ticks sit on evenly spaced columns of the axis line.
func TestEvenXTicks(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	p := curves(t)
	for _, w := range []int{30, 47, 60, 90, 118} {
		lines := strings.Split(ansi.Strip(Render(st, w, 12, p)), "\n")
		axis := []rune(lines[len(lines)-2])
		var cols []int
		for i, r := range axis {
			if r == '┬' {
				cols = append(cols, i)
			}
		}
		if len(cols) < 2 {
			t.Fatalf("w=%d: ticks %v in %q", w, cols, string(axis))
		}
		for i := 2; i < len(cols); i++ {
			if cols[i]-cols[i-1] != cols[1]-cols[0] {
				t.Errorf("w=%d: uneven x ticks %v", w, cols)
			}
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Errorf("w=%d: line too wide: %q", w, l)
			}
		}
	}
}

// Without colour every series is still told apart: its glyph is on the
// plot and in the legend, with the final value.
func TestSeriesDistinctWithoutColour(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	p := curves(t)
	out := ansi.Strip(Render(st, 60, 16, p))
	for _, g := range []string{"*", "#", ".", "-"} {
		if !strings.Contains(out, g) {
			t.Errorf("glyph %q missing:\n%s", g, out)
		}
	}
	leg := ansi.Strip(Legend(st, p.Series, 200))
	for _, want := range []string{"*** decoupled acc 0.775", "# # maml acc 0.196"} {
		if !strings.Contains(leg, want) {
			t.Errorf("legend %q lacks %q", leg, want)
		}
	}
	if !strings.Contains(out, "chance 0.25") || !strings.Contains(out, "base 0.40") {
		t.Errorf("reference lines unlabelled:\n%s", out)
	}
}

// The loss axis starts at 0 and ends on a round tick above the data.
func TestAutoAxis(t *testing.T) {
	if lo, hi, step := yAxis(Panel{Series: []Series{{Points: []state.Point{{X: 1, Y: 2.3}, {X: 2, Y: 0.7}}}}}); lo != 0 || hi != 3 || step != 1 {
		t.Errorf("axis %v..%v step %v", lo, hi, step)
	}
	for _, c := range []struct{ in, want float64 }{{0.2, 0.2}, {0.3, 0.5}, {0.26, 0.5}, {3, 5}, {7, 10}, {0.021, 0.025}} {
		if got := niceStep(c.in); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestLegendWrapsBetweenItems(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	p := curves(t)
	leg := ansi.Strip(Legend(st, p.Series, 30))
	if lines := strings.Split(leg, "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "# # maml") {
		t.Errorf("legend %q", leg)
	}
}

func TestDegenerateData(t *testing.T) {
	st := testutil.Common(t, fakeengine.New()).Styles
	for _, s := range [][]Series{nil, {{Name: "one", Glyph: 'o', Points: []state.Point{{X: 1, Y: 0.5}}}}, {{Name: "nan", Glyph: 'o', Points: []state.Point{{X: 1, Y: math.NaN()}, {X: 2, Y: 1}}}}} {
		if out := Render(st, 40, 8, Panel{Series: s}); strings.Count(out, "\n") != 7 {
			t.Errorf("%v: %d lines", s, strings.Count(out, "\n")+1)
		}
	}
	if Render(st, 5, 2, Panel{}) != "" {
		t.Error("tiny chart should render nothing")
	}
}

func TestIntStep(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0.3, 1}, {1.2, 2}, {2.1, 5}, {3, 5}, {6, 10}, {12, 20}, {22, 50}} {
		if got := intStep(c.in); got != c.want {
			t.Errorf("intStep(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// The y axis of a free panel covers every plotted value, whatever the mix
// of series (a support loss far above the query losses included), at every
// height: a value past the top tick would be drawn clipped to it.
func TestYAxisCoversEveryPoint(t *testing.T) {
	for seed := range 500 {
		r := uint64(seed)*2654435761 + 1
		next := func() float64 { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return float64(r%100000) / 1000 } // 0…100
		var p Panel
		var lo, hi = math.Inf(1), math.Inf(-1)
		for range 1 + seed%4 {
			var s Series
			scale := []float64{0.01, 1, 3, 100}[seed%4]
			for x := range 1 + seed%7 {
				y := next() / 100 * scale
				s.Points = append(s.Points, state.Point{X: float64(x + 1), Y: y})
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
			p.Series = append(p.Series, s)
		}
		for _, h := range []int{6, 9, 14, 23, 40} {
			ymin, ymax, nY, ystep, _, _ := yLayout(p, h)
			top := ymin + float64(nY)*ystep
			if ymin > lo || ymax < hi || top < hi-1e-9 || math.Abs(top-ymax) > 1e-9*math.Max(1, ymax) {
				t.Fatalf("seed %d h %d: data [%g, %g], axis [%g, %g] in %d ticks of %g (top label %g)",
					seed, h, lo, hi, ymin, ymax, nY, ystep, top)
			}
		}
	}
}
