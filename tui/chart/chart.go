// Package chart draws labelled line-chart panels in terminal cells. Each
// series has its own glyph (and, in the loss panel, a dash pattern) as well
// as its own colour, so curves stay apart under NO_COLOR and in monochrome
// themes. Axes have evenly spaced ticks: the plot area is trimmed to a whole
// number of cells per tick interval. Render is a pure function of its input
// so screens can cache the string.
package chart

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// Series is one curve.
type Series struct {
	Name   string // legend label, e.g. "degaml acc"
	Points []state.Point
	Style  lipgloss.Style
	Glyph  rune // plot mark; ASCII so every terminal draws it one cell wide
	Dashed bool // draw every other cell of the connecting line
	// Final is the legend's number when it is not the last point's (a
	// run's test accuracy after a curve of validation accuracy).
	Final *float64
	// FinalLabel names Final in the legend ("test").
	FinalLabel string
}

// Ref is a horizontal reference line (chance, base model).
type Ref struct {
	Y     float64
	Label string
	Glyph rune
}

// Panel is one chart: a titled plot with its own y axis.
type Panel struct {
	Title  string
	XLabel string
	// YFixed keeps the y axis at [YMin, YMax] whatever the data; otherwise
	// the axis starts at YMin and ends at a round number above the data.
	YMin, YMax float64
	YFixed     bool
	Refs       []Ref
	Series     []Series
	// XMax is the smallest x range end (so panels side by side share it).
	XMax float64
}

// Render draws p into exactly h lines of at most w cells, or "" when w×h
// is too small for a readable plot.
func Render(st *common.Styles, w, h int, p Panel) string {
	if w < 20 || h < 6 {
		return ""
	}
	ymin, ymax, nY, ystep, rowsPer, plotH := yLayout(p, h)

	yLabels := make([]string, nY+1)
	labW := 0
	for i := range yLabels {
		yLabels[i] = tickLabel(ymin+float64(i)*ystep, ystep)
		labW = max(labW, len(yLabels[i]))
	}
	plotW := w - labW - 2
	xmax, xstep, nX := xAxis(p, plotW)
	colsPer := max(1, (plotW-1)/nX)
	plotW = colsPer*nX + 1

	grid := newGrid(plotW, plotH)
	row := func(y float64) int {
		return plotH - 1 - int(math.Round((y-ymin)/(ymax-ymin)*float64(plotH-1)))
	}
	col := func(x float64) int { return int(math.Round(x / xmax * float64(plotW-1))) }
	for _, r := range p.Refs {
		if r.Y < ymin || r.Y > ymax || math.IsNaN(r.Y) {
			continue
		}
		y := row(r.Y)
		for x := 0; x < plotW; x++ {
			grid.set(x, y, r.Glyph, nil)
		}
	}
	for i := range p.Series {
		s := &p.Series[i]
		pts := finite(s.Points)
		for j, pt := range pts {
			x, y := col(pt.X), row(clamp(pt.Y, ymin, ymax))
			if j > 0 {
				px, py := col(pts[j-1].X), row(clamp(pts[j-1].Y, ymin, ymax))
				grid.line(px, py, x, y, s.Glyph, &s.Style, s.Dashed)
			}
			grid.set(x, y, s.Glyph, &s.Style)
		}
	}

	// Reference labels last, over the curves, so they stay readable.
	// Two references on one row share it: "chance 0.25 · base 0.31".
	byRow := map[int][]string{}
	var rows []int
	for _, r := range p.Refs {
		if r.Y >= ymin && r.Y <= ymax {
			y := row(r.Y)
			if byRow[y] == nil {
				rows = append(rows, y)
			}
			byRow[y] = append(byRow[y], r.Label)
		}
	}
	for _, y := range rows {
		label := " " + strings.Join(byRow[y], " · ") + " "
		if n := len([]rune(label)); n < plotW*2/3 {
			grid.text(plotW-n, y, label)
		}
	}
	var b strings.Builder
	b.WriteString(st.Heading.Render(ansi.Truncate(p.Title, w, "…")) + "\n")
	for y := 0; y < plotH; y++ {
		lab, axis := "", "│"
		if (plotH-1-y)%rowsPer == 0 {
			lab, axis = yLabels[(plotH-1-y)/rowsPer], "┤"
		}
		b.WriteString(st.Muted.Render(fmt.Sprintf("%*s %s", labW, lab, axis)))
		b.WriteString(grid.render(st, y) + "\n")
	}
	// x axis line with tick marks, then the tick labels.
	var axis, labels strings.Builder
	axis.WriteString(strings.Repeat(" ", labW+1) + "└")
	lab := []rune(strings.Repeat(" ", labW+2+plotW+1))
	for x := 0; x < plotW; x++ {
		if x%colsPer == 0 {
			axis.WriteString("┬")
			t := tickLabel(float64(x/colsPer)*xstep, xstep)
			at := labW + 2 + x - len(t)/2
			if x == 0 {
				at = labW + 2
			}
			for k, r := range t {
				if at+k < len(lab) {
					lab[at+k] = r
				}
			}
		} else {
			axis.WriteString("─")
		}
	}
	labels.WriteString(strings.TrimRight(string(lab), " "))
	if p.XLabel != "" && labels.Len()+len(p.XLabel)+2 <= w {
		labels.WriteString("  " + p.XLabel)
	}
	b.WriteString(st.Muted.Render(axis.String()) + "\n")
	b.WriteString(st.Muted.Render(labels.String()))
	out := b.String()
	// Exactly h lines, the spare ones between the title and the plot: panels
	// side by side keep their x axes on the same rows.
	if n := strings.Count(out, "\n") + 1; n < h {
		title, rest, _ := strings.Cut(out, "\n")
		out = title + strings.Repeat("\n", h-n+1) + rest
	}
	return out
}

// yLayout places the y axis in h lines (title, plot rows, axis line, tick
// labels): the range, the tick intervals and the rows per interval, so
// that ticks are evenly spaced.
func yLayout(p Panel, h int) (ymin, ymax float64, nY int, ystep float64, rowsPer, plotH int) {
	ymin, ymax, ystep0 := yAxis(p)
	plotH = h - 3
	nY, ystep = fitTicks(int(math.Round((ymax-ymin)/ystep0)), ystep0, plotH-1, 1)
	rowsPer = max(1, (plotH-1)/nY)
	return ymin, ymax, nY, ystep, rowsPer, rowsPer*nY + 1
}

// Height is how many of h lines Render really needs for p (evenly spaced
// ticks may leave a few); callers give the rest to something else.
func Height(p Panel, h int) int {
	if h < 6 {
		return h
	}
	_, _, _, _, _, plotH := yLayout(p, h)
	return plotH + 3
}

// Sample is how a series looks in a legend: three cells of its line.
func Sample(s Series) string {
	g := string(s.Glyph)
	if s.Dashed {
		return s.Style.Render(g + " " + g)
	}
	return s.Style.Render(g + g + g)
}

// LegendItem is one legend entry: sample, name and final value.
func LegendItem(st *common.Styles, s Series) string {
	v := "—"
	switch pts := finite(s.Points); {
	case s.Final != nil:
		v = fmt.Sprintf("%.3f", *s.Final)
		if s.FinalLabel != "" {
			v = s.FinalLabel + " " + v
		}
	case len(pts) > 0:
		v = fmt.Sprintf("%.3f", pts[len(pts)-1].Y)
	}
	return Sample(s) + " " + st.Base.Render(s.Name) + " " + st.Value.Render(v)
}

// Legend lists every series with its final value, wrapped to width w
// between entries (never inside one).
func Legend(st *common.Styles, series []Series, w int) string {
	items := make([]string, len(series))
	for i, s := range series {
		items[i] = LegendItem(st, s)
	}
	return Flow(items, w)
}

// Flow joins items with three spaces, breaking lines between items so no
// line is wider than w.
func Flow(items []string, w int) string {
	var lines []string
	line, lineW := "", 0
	for _, item := range items {
		iw := lipgloss.Width(item)
		if lineW > 0 && lineW+3+iw > w {
			lines = append(lines, line)
			line, lineW = "", 0
		}
		if lineW > 0 {
			line += "   "
			lineW += 3
		}
		line += item
		lineW += iw
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// fitTicks picks how many tick intervals to draw across cells cells (at
// least minGap cells each): n, or n halved or doubled while the step
// stays round. It takes the most intervals that are at least 3 cells
// apart and leave at most a quarter of the cells unused, else the choice
// that uses the most cells, so the axis has evenly spaced ticks, readable
// labels and still fills its space.
func fitTicks(n int, step float64, cells, minGap int) (int, float64) {
	type cand struct {
		n    int
		step float64
	}
	cands := []cand{{n, step}}
	// Halve down to two intervals, not one: an axis labelled only at its
	// ends says little.
	for c := (cand{n, step}); c.n%2 == 0 && c.n > 2; {
		c = cand{c.n / 2, c.step * 2}
		cands = append(cands, c)
	}
	if h := step / 2; 2*n*minGap <= cells && math.Abs(h*100-math.Round(h*100)) < 1e-9 {
		cands = append(cands, cand{2 * n, step / 2})
	}
	var best *cand
	for i := range cands {
		c := &cands[i]
		per := cells / c.n
		if per >= 3 && 4*per*c.n >= 3*cells && (best == nil || c.n > best.n) {
			best = c
		}
	}
	if best != nil {
		return best.n, best.step
	}
	best, used := &cands[len(cands)-1], -1
	for i := range cands {
		c := &cands[i]
		per := cells / c.n
		if per < minGap {
			continue
		}
		if u := per * c.n; u > used || u == used && c.n > best.n {
			best, used = c, u
		}
	}
	return best.n, best.step
}

// yAxis returns the axis range and a round tick step.
func yAxis(p Panel) (lo, hi, step float64) {
	if p.YFixed && p.YMax > p.YMin {
		return p.YMin, p.YMax, niceStep((p.YMax - p.YMin) / 4)
	}
	lo, hi = p.YMin, p.YMin
	for _, s := range p.Series {
		for _, pt := range finite(s.Points) {
			hi = math.Max(hi, pt.Y)
			lo = math.Min(lo, pt.Y)
		}
	}
	for _, r := range p.Refs {
		if !math.IsNaN(r.Y) && !math.IsInf(r.Y, 0) {
			hi = math.Max(hi, r.Y)
		}
	}
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	step = niceStep((hi - lo) / 4)
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi/step-1e-9) * step
	return lo, hi, step
}

// xAxis returns the x range end, the tick step and the number of
// intervals that fit plotW cells with room for their labels.
func xAxis(p Panel, plotW int) (xmax, step float64, n int) {
	xmax = math.Max(1, p.XMax)
	for _, s := range p.Series {
		for _, pt := range finite(s.Points) {
			xmax = math.Max(xmax, pt.X)
		}
	}
	want := max(1, min(10, (plotW-1)/6)) // a label every 6 cells at most
	step = intStep(xmax / float64(want))
	n = int(math.Ceil(xmax/step - 1e-9))
	for n > 1 && (plotW-1)/n < len(tickLabel(float64(n)*step, step))+1 {
		step = intStep(step * 1.5)
		n = int(math.Ceil(xmax/step - 1e-9))
	}
	return float64(n) * step, step, max(1, n)
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// intStep is niceStep for a step axis: whole numbers, 1, 2 or 5 times a
// power of ten (no 2.5 steps).
func intStep(v float64) float64 {
	st := math.Max(1, niceStep(v))
	if st != math.Trunc(st) || st/math.Pow(10, math.Floor(math.Log10(st))) == 2.5 {
		st = niceStep(st * 1.5)
	}
	return math.Max(1, st)
}

func tickLabel(v, step float64) string {
	switch {
	case step >= 1 && step == math.Trunc(step):
		return fmt.Sprintf("%.0f", v)
	case step*10 == math.Trunc(step*10):
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// finite drops NaN/Inf points: a diverged step must not break the plot.
func finite(pts []state.Point) []state.Point {
	out := pts[:0:0]
	for _, p := range pts {
		if !math.IsNaN(p.Y) && !math.IsInf(p.Y, 0) && !math.IsNaN(p.X) && !math.IsInf(p.X, 0) {
			out = append(out, p)
		}
	}
	return out
}

// grid is the plot area: a glyph and a style per cell.
type grid struct {
	w, h  int
	cells []rune
	style []*lipgloss.Style
}

func newGrid(w, h int) *grid {
	g := &grid{w: w, h: h, cells: make([]rune, w*h), style: make([]*lipgloss.Style, w*h)}
	for i := range g.cells {
		g.cells[i] = ' '
	}
	return g
}

func (g *grid) set(x, y int, r rune, s *lipgloss.Style) {
	if x >= 0 && x < g.w && y >= 0 && y < g.h {
		g.cells[y*g.w+x], g.style[y*g.w+x] = r, s
	}
}

func (g *grid) text(x, y int, t string) {
	for i, r := range []rune(t) {
		g.set(x+i, y, r, nil)
	}
}

// line joins two cells, stepping along the longer axis so the curve has
// no gaps; dashed lines skip every other cell (the end points are drawn by
// the caller).
func (g *grid) line(x0, y0, x1, y1 int, r rune, s *lipgloss.Style, dashed bool) {
	dx, dy := x1-x0, y1-y0
	n := max(abs(dx), abs(dy))
	for i := 1; i < n; i++ {
		if dashed && i%2 == 1 {
			continue
		}
		x := x0 + int(math.Round(float64(dx*i)/float64(n)))
		y := y0 + int(math.Round(float64(dy*i)/float64(n)))
		g.set(x, y, r, s)
	}
}

// render draws row y, grouping runs of one style into one escape sequence.
func (g *grid) render(st *common.Styles, y int) string {
	var b strings.Builder
	row := g.cells[y*g.w : (y+1)*g.w]
	sty := g.style[y*g.w : (y+1)*g.w]
	for x := 0; x < g.w; {
		e := x
		for e < g.w && sty[e] == sty[x] {
			e++
		}
		seg := string(row[x:e])
		if sty[x] != nil {
			seg = sty[x].Render(seg)
		} else if strings.TrimSpace(seg) != "" {
			seg = st.Muted.Render(seg)
		}
		b.WriteString(seg)
		x = e
	}
	return b.String()
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
