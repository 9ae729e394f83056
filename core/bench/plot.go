package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/degaml/workbench/internal/atomicfile"
)

// Plot size: three panels side by side in one PNG.
const (
	plotW   = 22 * vg.Inch
	plotH   = 6 * vg.Inch
	plotDPI = 100 // → 2200 × 600 px
)

// WritePNG renders one PNG with three panels: left, a grouped bar chart of
// every method's in-domain and out-of-domain average accuracy with 95% CI
// whiskers and each block's chance level; middle, the methods' mean
// accuracy by adaptation step (with chance); right, their mean query loss
// by step (one metric on one axis; methods that report only a training
// loss are named, not mixed in). Curves are averaged over the runs in the
// table.
func WritePNG(w io.Writer, t *Table, curves map[string][]Curve) error {
	bars, err := barPlot(t)
	if err != nil {
		return err
	}
	acc, err := curvePlot(t.Methods, curves, accuracyMetric, blockChance(t, nil))
	if err != nil {
		return err
	}
	loss, err := curvePlot(t.Methods, curves, queryLossMetric, math.NaN())
	if err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(plotW, plotH), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8,
		PadLeft: vg.Inch / 8, PadRight: vg.Inch / 4}
	plots := [][]*plot.Plot{{bars, acc, loss}}
	canvases := plot.Align(plots, tiles, dc)
	bars.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])
	loss.Draw(canvases[0][2])
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// blockChance is the mean chance accuracy of the suites of a block (nil:
// every suite of the table), NaN when the table has no chance levels.
func blockChance(t *Table, suites []string) float64 {
	if suites == nil {
		suites = append(slices.Clone(t.Layout.InDomain), t.Layout.OutOfDomain...)
	}
	s, n := 0.0, 0
	for _, name := range suites {
		if c, ok := t.Chance[name]; ok && c > 0 {
			s += c
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// chanceLine is a dashed horizontal line at y over the x range of a plot.
type chanceLine struct {
	y     float64
	color color.Color
}

func (c chanceLine) Plot(dc draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&dc)
	sty := draw.LineStyle{Color: c.color, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}
	y := trY(c.y)
	dc.StrokeLine2(sty, trX(p.X.Min), y, trX(p.X.Max), y)
}

func (c chanceLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), c.y, c.y
}

func (c chanceLine) Thumbnail(dc *draw.Canvas) {
	y := (dc.Min.Y + dc.Max.Y) / 2
	dc.StrokeLine2(draw.LineStyle{Color: c.color, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}, dc.Min.X, y, dc.Max.X, y)
}

// SavePNG writes WritePNG's image to path, atomically (a failed plot leaves
// the previous image, not a torn one).
func SavePNG(path string, t *Table, curves map[string][]Curve) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return WritePNG(w, t, curves) })
}

func barPlot(t *Table) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Accuracy by method (mean ± 95% CI over seeds)"
	p.Y.Label.Text = "accuracy %"
	p.Y.Min = 0
	p.Add(plotter.NewGrid()) // first, so bars and error bars draw over it
	names := slices.Clone(t.Methods)
	var groups []string
	if len(t.Layout.InDomain) > 0 {
		groups = append(groups, AvgInDomain)
	}
	if len(t.Layout.OutOfDomain) > 0 {
		groups = append(groups, AvgOutOfDomain)
	}
	const barW = 18 * vg.Millimeter / 2
	ymax := 0.0
	for g, col := range groups {
		vals := make(plotter.Values, len(t.Methods))
		eb := &offsetErrBars{x: make([]float64, len(t.Methods)), lo: make([]float64, len(t.Methods)), hi: make([]float64, len(t.Methods))}
		for i, m := range t.Methods {
			c := t.Cell(m, col)
			eb.x[i] = float64(i)
			eb.lo[i], eb.hi[i] = math.NaN(), math.NaN()
			if c.Seeds == 0 || math.IsNaN(c.Mean) {
				continue // CopyValues rejects NaN: a missing cell is a zero-height bar
			}
			vals[i] = 100 * c.Mean
			ymax = math.Max(ymax, vals[i])
			if !math.IsNaN(c.CI95) {
				// Clipped to the possible range: with two seeds t(0.975, 1) =
				// 12.7 makes half-widths exceed the mean.
				eb.lo[i], eb.hi[i] = math.Max(0, 100*(c.Mean-c.CI95)), math.Min(100, 100*(c.Mean+c.CI95))
				ymax = math.Max(ymax, eb.hi[i])
			}
		}
		b, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(g)
		b.LineStyle.Width = 0
		// Center the group on the method's tick: bars side by side.
		b.Offset = barW * vg.Length(float64(g)-float64(len(groups)-1)/2)
		eb.off = b.Offset
		p.Add(b, eb)
		label, suites := "in-domain avg", t.Layout.InDomain
		if col == AvgOutOfDomain {
			label, suites = "out-of-domain avg", t.Layout.OutOfDomain
		}
		p.Legend.Add(label, b)
		if c := blockChance(t, suites); !math.IsNaN(c) {
			// The block's chance level, in the block's colour: bars below it
			// are no better than guessing.
			cl := chanceLine{y: 100 * c, color: plotutil.Color(g)}
			p.Add(cl)
			p.Legend.Add(fmt.Sprintf("chance, %s (%.0f%%)", label, 100*c), cl)
		}
	}
	// Headroom for the legend; the x range pads half a group on each side so
	// the outer bars are not clipped.
	p.Y.Max = math.Max(10, math.Min(110, math.Ceil(ymax*1.3/10)*10))
	p.Legend.Top = true
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	return p, nil
}

// offsetErrBars draws vertical error bars at data x plus a canvas offset,
// so they sit on bars that plotter.BarChart shifted by Offset (the stock
// YErrorBars only knows data coordinates).
type offsetErrBars struct {
	x, lo, hi []float64
	off       vg.Length
}

func (e *offsetErrBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	capW := vg.Points(4)
	for i := range e.x {
		if math.IsNaN(e.lo[i]) {
			continue
		}
		x, y0, y1 := trX(e.x[i])+e.off, trY(e.lo[i]), trY(e.hi[i])
		c.StrokeLine2(sty, x, y0, x, y1)
		c.StrokeLine2(sty, x-capW, y0, x+capW, y0)
		c.StrokeLine2(sty, x-capW, y1, x+capW, y1)
	}
}

func (e *offsetErrBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for i := range e.x {
		xmin, xmax = math.Min(xmin, e.x[i]), math.Max(xmax, e.x[i])
		if !math.IsNaN(e.lo[i]) {
			ymin, ymax = math.Min(ymin, e.lo[i]), math.Max(ymax, e.hi[i])
		}
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 0
	}
	return
}

// A curveMetric is what a curve panel plots.
type curveMetric struct {
	title, axis string
	scale       float64 // 100 for accuracy in %
	get         func(CurvePoint) *float64
}

var (
	accuracyMetric = curveMetric{title: "Mean accuracy by adaptation step", axis: "accuracy %", scale: 100,
		get: func(p CurvePoint) *float64 { return p.Accuracy }}
	queryLossMetric = curveMetric{title: "Mean query loss by adaptation step", axis: "query loss (CE)", scale: 1,
		get: func(p CurvePoint) *float64 { return p.QueryLoss }}
)

// curvePlot draws one metric's mean curves, one per method and phase, with
// a chance line when chance is a number (accuracy).
func curvePlot(methods []string, curves map[string][]Curve, metric curveMetric, chance float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = metric.title + " (per method and phase, averaged over tasks)"
	p.X.Label.Text = "adaptation step"
	p.Y.Label.Text = metric.axis
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	n := 0
	ylo, yhi := math.Inf(1), math.Inf(-1)
	// Methods in table order, then any other curves (stable order).
	order := slices.Clone(methods)
	var extra, without []string
	for m := range curves {
		if !slices.Contains(order, m) {
			extra = append(extra, m)
		}
	}
	slices.Sort(extra)
	for mi, m := range append(order, extra...) {
		drawn := false
		for _, c := range curves[m] {
			var xys plotter.XYs
			for _, pt := range c.Points {
				if v := metric.get(pt); v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
					y := metric.scale * *v
					xys = append(xys, plotter.XY{X: float64(pt.Step), Y: y})
					ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
				}
			}
			if len(xys) == 0 {
				continue // e.g. TTS/mix report steps without this metric
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			l.Color, s.Color = plotutil.Color(mi), plotutil.Color(mi)
			l.Dashes = plotutil.Dashes(n)
			s.Shape = plotutil.Shape(n)
			p.Add(l, s)
			p.Legend.Add(fmt.Sprintf("%s %s", m, c.Phase), l, s)
			n++
			drawn = true
		}
		if !drawn && len(curves[m]) > 0 {
			without = append(without, m)
		}
	}
	if !math.IsNaN(chance) {
		cl := chanceLine{y: metric.scale * chance, color: color.Gray{Y: 90}}
		p.Add(cl)
		p.Legend.Add(fmt.Sprintf("chance (%.0f%%)", metric.scale*chance), cl)
		ylo, yhi = math.Min(ylo, metric.scale*chance), math.Max(yhi, metric.scale*chance)
	}
	switch {
	case n > 0 && metric.scale == 100:
		// Accuracy keeps its whole range, with headroom for the legend.
		p.Y.Min, p.Y.Max = 0, 100+8*float64(n+2)
	case n > 0:
		// Headroom above the data for the legend, which sits top right.
		span := math.Max(yhi-ylo, 0.1)
		p.Y.Min, p.Y.Max = math.Max(0, ylo-0.05*span), yhi+0.08*span*float64(n+2)
	default:
		// An empty panel still says why, rather than a bare axis.
		p.Title.Text += "\n(no step events reported this metric)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, max(1, metric.scale)
	}
	if len(without) > 0 {
		p.Title.Text += "\nnot reported by: " + strings.Join(without, ", ")
	}
	return p, nil
}
