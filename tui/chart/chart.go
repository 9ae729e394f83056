// Package chart draws multi-series braille line charts with ntcharts. It is a
// pure function of its data so screens can cache the string and redraw only
// when the state version changes.
package chart

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// Series is one named curve. Series sharing a Group (a method) share one
// legend entry: "degaml ━sup ━qry ━acc".
type Series struct {
	Name   string
	Group  string // legend group; "" = the series stands alone
	Label  string // short name within the group
	Points []state.Point
	Style  lipgloss.Style
}

// Render draws the series into a w×h block (axes and labels included).
func Render(st *common.Styles, w, h int, series []Series) string {
	if w < 12 || h < 4 {
		return ""
	}
	minX, maxX, minY, maxY := bounds(series)
	lc := linechart.New(w, h, minX, maxX, minY, maxY,
		linechart.WithXYSteps(4, 2),
		linechart.WithStyles(st.Muted, st.Muted, st.Base),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.0f", v) }),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return yLabel(v, maxY-minY) }),
	)
	lc.DrawXYAxisAndLabel()
	startX := 0
	if lc.YStep() > 0 {
		startX = lc.Origin().X + 1
	}
	for _, s := range series {
		pts := finite(s.Points)
		if len(pts) == 0 {
			continue
		}
		// One braille grid per series: points of one curve merge into shared
		// cells, and each curve keeps its own colour.
		g := graph.NewBrailleGrid(lc.GraphWidth(), lc.GraphHeight(), minX, maxX, minY, maxY)
		prev := g.GridPoint(canvas.Float64Point{X: pts[0].X, Y: pts[0].Y})
		g.Set(prev)
		for _, p := range pts[1:] {
			cur := g.GridPoint(canvas.Float64Point{X: p.X, Y: p.Y})
			for _, q := range graph.GetLinePoints(prev, cur) {
				g.Set(q)
			}
			prev = cur
		}
		graph.DrawBraillePatterns(&lc.Canvas, canvas.Point{X: startX, Y: 0}, g.BraillePatterns(), s.Style)
	}
	return lc.View()
}

// Legend renders one entry per group, wrapped to width w.
func Legend(series []Series, w int) string {
	var items []string
	for i := 0; i < len(series); i++ {
		s := series[i]
		if s.Group == "" {
			items = append(items, s.Style.Render("━━")+" "+s.Name)
			continue
		}
		item := s.Group
		for ; i < len(series) && series[i].Group == s.Group; i++ {
			item += " " + series[i].Style.Render("━"+series[i].Label)
		}
		i--
		items = append(items, item)
	}
	var lines []string
	line, lineW := "", 0
	for _, item := range items {
		iw := lipgloss.Width(item) + 3
		if lineW > 0 && lineW+iw > w {
			lines = append(lines, strings.TrimRight(line, " "))
			line, lineW = "", 0
		}
		line += item + "   "
		lineW += iw
	}
	if line != "" {
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return strings.Join(lines, "\n")
}

func bounds(series []Series) (minX, maxX, minY, maxY float64) {
	minX, minY = math.Inf(1), math.Inf(1)
	maxX, maxY = math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
			minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
		}
	}
	if math.IsInf(minX, 0) {
		return 0, 10, 0, 1
	}
	if maxX-minX < 1 {
		maxX = minX + 1
	}
	if maxY-minY < 1e-9 {
		minY, maxY = minY-0.5, maxY+0.5
	}
	pad := (maxY - minY) * 0.05
	return minX, maxX, minY - pad, maxY + pad
}

func yLabel(v, span float64) string {
	switch {
	case span >= 20:
		return fmt.Sprintf("%.0f", v)
	case span >= 2:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// finite drops NaN/Inf points: a diverged step must not hang the line
// rasterizer (it walks from point to point).
func finite(pts []state.Point) []state.Point {
	out := pts[:0:0]
	for _, p := range pts {
		if !math.IsNaN(p.Y) && !math.IsInf(p.Y, 0) && !math.IsNaN(p.X) && !math.IsInf(p.X, 0) {
			out = append(out, p)
		}
	}
	return out
}
