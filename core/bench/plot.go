package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot size: two panels side by side in one PNG.
const (
	plotW   = 16 * vg.Inch
	plotH   = 6 * vg.Inch
	plotDPI = 100 // → 1600 × 600 px
)

// WritePNG renders one PNG with two panels: left, a grouped bar chart of
// every method's in-domain and out-of-domain average accuracy with 95% CI
// error bars; right, the methods' mean adaptation curves (loss per
// adaptation step, averaged over the runs in the table) from curves.
func WritePNG(w io.Writer, t *Table, curves map[string][]Curve) error {
	bars, err := barPlot(t)
	if err != nil {
		return err
	}
	lines, err := curvePlot(t.Methods, curves)
	if err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(plotW, plotH), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8,
		PadLeft: vg.Inch / 8, PadRight: vg.Inch / 4}
	plots := [][]*plot.Plot{{bars, lines}}
	canvases := plot.Align(plots, tiles, dc)
	bars.Draw(canvases[0][0])
	lines.Draw(canvases[0][1])
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// SavePNG writes WritePNG's image to path.
func SavePNG(path string, t *Table, curves map[string][]Curve) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WritePNG(f, t, curves); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
		label := "in-domain avg"
		if col == AvgOutOfDomain {
			label = "out-of-domain avg"
		}
		p.Legend.Add(label, b)
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

// curveMetric picks what a curve plots: the query loss when the method
// reports one (MAML-style held-out loss), else the support/training loss.
func curveMetric(c Curve) (name string, get func(CurvePoint) *float64) {
	for _, p := range c.Points {
		if p.QueryLoss != nil {
			return "query", func(p CurvePoint) *float64 { return p.QueryLoss }
		}
	}
	for _, p := range c.Points {
		if p.SupportLoss != nil {
			return "support", func(p CurvePoint) *float64 { return p.SupportLoss }
		}
	}
	return "", nil
}

func curvePlot(methods []string, curves map[string][]Curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Mean adaptation curves (per method and phase, averaged over tasks)"
	p.X.Label.Text = "adaptation step"
	p.Y.Label.Text = "loss (CE)"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	n := 0
	ylo, yhi := math.Inf(1), math.Inf(-1)
	// Methods in table order, then any other curves (stable order).
	order := slices.Clone(methods)
	var extra []string
	for m := range curves {
		if !slices.Contains(order, m) {
			extra = append(extra, m)
		}
	}
	slices.Sort(extra)
	for mi, m := range append(order, extra...) {
		for _, c := range curves[m] {
			metric, get := curveMetric(c)
			if get == nil {
				continue // e.g. TTS/mix report steps without a loss
			}
			var xys plotter.XYs
			for _, pt := range c.Points {
				if v := get(pt); v != nil {
					xys = append(xys, plotter.XY{X: float64(pt.Step), Y: *v})
					ylo, yhi = math.Min(ylo, *v), math.Max(yhi, *v)
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			l.Color, s.Color = plotutil.Color(mi), plotutil.Color(mi)
			l.Dashes = plotutil.Dashes(n)
			s.Shape = plotutil.Shape(n)
			p.Add(l, s)
			p.Legend.Add(fmt.Sprintf("%s %s (%s)", m, c.Phase, metric), l, s)
			n++
		}
	}
	if n > 0 {
		// Headroom above the data for the legend, which sits top right.
		span := math.Max(yhi-ylo, 0.1)
		p.Y.Min, p.Y.Max = math.Max(0, ylo-0.05*span), yhi+0.08*span*float64(n+2)
	}
	if n == 0 {
		// An empty panel still says why, rather than a bare axis.
		p.Title.Text += "\n(no step events with a loss were recorded)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	}
	return p, nil
}
