package adapt

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/chart"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/pipeline"
	"github.com/degaml/workbench/tui/state"
)

// order is the chart's method order: the two modes first, then baselines,
// so a method keeps its colour and glyph as others are added.
func order() []api.Method { return append([]api.Method{MethodGen, MethodDecoupled}, Baselines...) }

// glyphs are one per method in order(): ASCII, so every terminal draws
// them one cell wide, and distinct, so curves stay apart without colour.
var glyphs = []rune{'o', '*', '+', 'x', '#', '@'}

// maxLossMethods: above this many methods the loss panel draws query
// loss only (support curves would double the count and tangle).
const maxLossMethods = 3

// Look is how a method is drawn: its glyph and colour.
func (m *Model) look(method api.Method) (rune, lipgloss.Style) {
	for i, o := range order() {
		if o == method {
			return glyphs[i], m.c.Styles.SeriesStyle(i)
		}
	}
	return '?', m.c.Styles.Base
}

// label names a method on the chart ("gen-only" reads better than the id).
func label(method api.Method) string {
	switch method {
	case MethodGen:
		return "gen-only"
	case MethodDecoupled:
		return "decoupled"
	}
	return string(method)
}

// shown lists the runs to draw, one per method, in chart order.
func (m *Model) shown() []*state.Run {
	runs := m.Runs()
	var out []*state.Run
	for _, method := range order() {
		if r := runs[method]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// AccuracySeries is one curve per method: accuracy per step, or, for a
// run with no per-step accuracy (gen-only: one forward pass), a flat line
// at its final accuracy so it stays comparable.
func (m *Model) AccuracySeries() []chart.Series {
	maxX := m.maxX()
	var out []chart.Series
	for _, r := range m.shown() {
		method := r.Method
		g, sty := m.look(method)
		pts := curvePoints(r, func(s state.StepRow) *float64 { return s.Acc })
		ser := chart.Series{Name: label(method) + " acc", Glyph: g, Style: sty}
		if r.Result != nil {
			// The legend's number is the run's test accuracy, the one the
			// result reports; a per-step curve is validation accuracy.
			a := r.Result.Accuracy
			if len(pts) == 0 {
				pts = []state.Point{{X: 0, Y: a}, {X: maxX, Y: a}}
				ser.Name = label(method) + " test acc"
			} else {
				ser.Final, ser.FinalLabel = &a, "→ test"
			}
		}
		if ser.Points = pts; len(pts) > 0 {
			out = append(out, ser)
		}
	}
	return out
}

// LossSeries is query loss (solid) and support loss (dashed) per method;
// support loss is left out when more than maxLossMethods methods are on.
func (m *Model) LossSeries() []chart.Series {
	shown := m.shown()
	var out []chart.Series
	for _, r := range shown {
		method := r.Method
		g, sty := m.look(method)
		add := func(name string, dashed bool, get func(state.StepRow) *float64) {
			if pts := curvePoints(r, get); len(pts) > 0 {
				out = append(out, chart.Series{Name: label(method) + " " + name, Points: pts, Glyph: g, Style: sty, Dashed: dashed})
			}
		}
		add("query", false, func(s state.StepRow) *float64 { return s.Query })
		if len(shown) <= maxLossMethods {
			add("support", true, func(s state.StepRow) *float64 { return s.Support })
		}
	}
	return out
}

// curvePoints is one metric of a run's per-step curve as chart points,
// skipping the steps that did not record it.
func curvePoints(r *state.Run, get func(state.StepRow) *float64) []state.Point {
	var pts []state.Point
	for _, row := range r.Curve() {
		if v := get(row); v != nil {
			pts = append(pts, state.Point{X: float64(row.Step), Y: *v})
		}
	}
	return pts
}

// Series is every curve of the current view (tests and the legend).
func (m *Model) Series() []chart.Series {
	switch m.Metric {
	case ViewAccuracy:
		return m.AccuracySeries()
	case ViewLoss:
		return m.LossSeries()
	}
	return append(m.AccuracySeries(), m.LossSeries()...)
}

func (m *Model) maxX() float64 {
	x := 1.0
	for _, r := range m.Runs() {
		for _, s := range r.Curve() {
			x = max(x, float64(s.Step))
		}
	}
	return x
}

// world is the instance the selection adapts to, as the engine names it.
func (m *Model) world() (api.World, bool) {
	sel := m.Sel()
	if sel.Suite == "" {
		return api.World{}, false
	}
	w, ok := m.c.Store.World(m.c.Engine, sel.Suite, sel.Seed)
	return w, ok
}

// refs are the accuracy panel's reference lines: chance (1/options) and
// the base model's accuracy on the same items.
func (m *Model) refs() []chart.Ref {
	var out []chart.Ref
	if w, ok := m.world(); ok && w.Options > 1 {
		c := 1 / float64(w.Options)
		out = append(out, chart.Ref{Y: c, Label: fmt.Sprintf("chance %.2f", c), Glyph: '.'})
	}
	if r := m.Runs()[MethodBase]; r != nil && r.Result != nil {
		out = append(out, chart.Ref{Y: r.Result.Accuracy, Label: fmt.Sprintf("base %.2f", r.Result.Accuracy), Glyph: '-'})
	}
	return out
}

func metricName(v int) string {
	return [...]string{"accuracy + loss", "accuracy", "loss"}[v]
}

func knobsLabel(k api.Knobs) string {
	if k == (api.Knobs{}) {
		return "default"
	}
	return strings.Join(knobFields(k), " ")
}

// knobFields names k's set knobs ("steps=5 lr=0.01"); zero ones are unset.
func knobFields(k api.Knobs) []string {
	var p []string
	if k.InnerSteps != 0 {
		p = append(p, fmt.Sprintf("steps=%d", k.InnerSteps))
	}
	if k.LR != 0 {
		p = append(p, fmt.Sprintf("lr=%g", k.LR))
	}
	if k.Rank != 0 {
		p = append(p, fmt.Sprintf("rank=%d", k.Rank))
	}
	if k.Support != 0 {
		p = append(p, fmt.Sprintf("support=%d", k.Support))
	}
	return p
}

// knobsInEffect names the current run's budget as the engine ran it (its
// AdaptStarted event: the config's defaults filled in, knobs the method
// ignores left out); before that event, the knobs as requested.
func (m *Model) knobsInEffect() string {
	r := m.Current()
	if r == nil || r.Applied == nil {
		return knobsLabel(m.Sel().Knobs)
	}
	// Every run has a support set, so its size is named even when zero.
	a := r.Applied
	p := knobFields(api.Knobs{InnerSteps: a.InnerSteps, LR: a.LR, Rank: a.Rank})
	return strings.Join(append(p, fmt.Sprintf("support=%d", a.Support)), " ")
}

// header holds the stable labels the e2e test greps for, wrapped between
// fields (never inside one) to the pane width.
func (m *Model) header() string {
	st := m.c.Styles
	sel := m.Sel()
	suite := sel.Suite
	if suite == "" {
		suite = "(none — pick one on Tasks)"
	} else if w, ok := m.world(); ok && w.Task != "" && w.Task != suite {
		suite += " (" + w.Task + ")"
	}
	l1 := chart.Flow([]string{
		st.Label.Render("Task: ") + st.Value.Render(suite),
		st.Label.Render("Mode: ") + st.Accent.Bold(true).Render(ModeLabel(sel.Mode)),
		st.Label.Render("Seed: ") + st.Value.Render(fmt.Sprint(sel.Seed)),
		st.Label.Render("Knobs: ") + st.Base.Render(m.knobsInEffect()),
	}, m.w)
	l2 := st.Label.Render("View: ") + st.Base.Render(metricName(m.Metric)) + "   " + m.statusLine()
	out := l1 + "\n" + st.Renderer().NewStyle().MaxWidth(m.w).Render(l2)
	if c := m.compareLine(); c != "" {
		out += "\n" + c
	}
	return out
}

// compareLine puts gen-only and decoupled side by side with the
// difference, once either has a result.
func (m *Model) compareLine() string {
	st := m.c.Styles
	runs := m.Runs()
	acc := func(method api.Method) (float64, bool) {
		if r := runs[method]; r != nil && r.Result != nil {
			return r.Result.Accuracy, true
		}
		return 0, false
	}
	g, gok := acc(MethodGen)
	d, dok := acc(MethodDecoupled)
	if !gok && !dok {
		return ""
	}
	val := func(v float64, ok bool) string {
		if !ok {
			return st.Muted.Render("not run (m)")
		}
		return st.Value.Render(fmt.Sprintf("%.3f", v))
	}
	gg, gs := m.look(MethodGen)
	dg, ds := m.look(MethodDecoupled)
	items := []string{
		gs.Render(string(gg)) + st.Label.Render(" generalization-only ") + val(g, gok),
		ds.Render(string(dg)) + st.Label.Render(" decoupled ") + val(d, dok),
	}
	if gok && dok {
		diff := st.Good
		if d < g {
			diff = st.Bad
		}
		items = append(items, st.Label.Render("Δ ")+diff.Render(fmt.Sprintf("%+.3f", d-g)))
	}
	if r := runs[MethodBase]; r != nil && r.Result != nil {
		items = append(items, st.Label.Render("base ")+st.Base.Render(fmt.Sprintf("%.3f", r.Result.Accuracy)))
	}
	return chart.Flow(items, m.w)
}

func (m *Model) statusLine() string {
	st := m.c.Styles
	r := m.Current()
	mode := m.Sel().Mode
	switch {
	case m.pending[mode]:
		return st.Muted.Render("starting " + string(mode) + "…")
	case r == nil:
		return st.Muted.Render("not run")
	case r.Canceled:
		// Stopped by its user: neither a failure nor a run still going.
		return st.Muted.Render("cancelled: press r to run it again")
	case r.Err != "":
		return st.Bad.Render("failed: " + r.Err)
	case r.Result != nil:
		return st.Good.Render(fmt.Sprintf("Result: acc %.3f (n=%d) in %.1fs", r.Result.Accuracy, r.Result.N, r.Result.WallS))
	}
	if len(r.Steps) == 0 && len(r.Hyps) == 0 {
		// The engine runs an adaptation only once the pipeline has trained
		// what it needs (and, on one worker, after the pipeline's job).
		if s, ok := m.c.Store.PipelineRunning(); ok {
			p := fmt.Sprintf("queued: waiting for the pipeline (%s %.0f%%", s.Name, s.Fraction*100)
			if s.ETA > 0 {
				p += " ETA " + pipeline.FormatETA(s.ETA)
			}
			return st.Muted.Render(p + ")")
		}
		return st.Accent.Render("running: waiting for the first step")
	}
	return st.Accent.Render(fmt.Sprintf("running: %d steps", len(r.Steps)))
}

// note explains what the chart shows, in at most h lines: whole
// paragraphs only (the method first, then the hypothesis family, then the
// ticked baselines), never a paragraph cut mid-sentence.
func (m *Model) note(w, h int) string {
	st := m.c.Styles
	paras := []string{st.Heading.Render("What is happening") + "\n" + st.Base.Width(w).Render(MethodNote(m.Sel().Mode))}
	if m.Sel().Mode == MethodDecoupled {
		if r := m.Current(); r != nil {
			fam := ""
			if r.Chosen != nil {
				fam = r.Chosen.Family
			} else if n := len(r.Hyps); n > 0 {
				fam = r.Hyps[n-1].Family
			}
			if fam != "" && FamilyNote(fam) != "" {
				paras = append(paras, st.Muted.Width(w).Render(FamilyNote(fam)))
			}
		}
	}
	for _, bl := range m.Sel().TickedBaselines() {
		paras = append(paras, st.Muted.Width(w).Render(string(bl)+": "+firstSentence(MethodNote(bl))))
	}
	out := ""
	for i, p := range paras {
		next := p
		if i > 0 {
			next = out + "\n\n" + p
		}
		if lipgloss.Height(next) > h {
			break
		}
		out = next
	}
	return out
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// View lays out header, chart + note, legend, and step table + card.
func (m *Model) View() string {
	key := fmt.Sprint(m.Metric, m.sel.open, m.sel.cursor, len(m.pending), m.top)
	if m.cacheVer == m.c.Store.Version && m.cacheW == m.w && m.cacheH == m.h && m.cacheKey == key {
		return m.cacheOut
	}
	m.cacheVer, m.cacheW, m.cacheH, m.cacheKey = m.c.Store.Version, m.w, m.h, key
	m.cacheOut = m.render()
	return m.cacheOut
}

// sideBySide is the width from which both panels are drawn next to
// each other; below it ViewAll shows accuracy and names the "v" key.
const sideBySide = 96

func (m *Model) render() string {
	st := m.c.Styles
	r := st.Renderer()
	head := m.header()
	// Both panels side by side need the full width; the note beside the
	// chart is shown with one panel on a wide screen.
	// With many methods the accuracy view needs the width for its small
	// multiples: no note then either.
	many := len(m.shown()) > maxOnePanel
	noteW := 0
	if m.w >= 100 && (m.Metric != ViewAll || m.w < sideBySide) && !(many && m.Metric == ViewAccuracy) {
		noteW = min(40, m.w/4)
	}
	chartW := m.w
	if noteW > 0 {
		chartW = m.w - noteW - 2
	}
	acc, loss := m.AccuracySeries(), m.LossSeries()
	var legendSeries []chart.Series
	both := m.Metric == ViewAll && chartW >= sideBySide
	switch {
	case both:
		legendSeries = append(acc, loss...)
	case m.Metric == ViewLoss:
		legendSeries = loss
	default:
		legendSeries = acc
	}
	legend := chart.Legend(st, legendSeries, m.w)
	if legend == "" {
		legend = st.Muted.Render("no curves yet — steps appear here as the engine reports them")
	}
	if many && m.Metric == ViewAll && m.h >= 30 {
		legend += "\n" + st.Muted.Render("v: accuracy alone, one small panel per method")
	} else if m.Metric == ViewAll && !both && m.h >= 30 {
		legend += "\n" + st.Muted.Render("v: loss panel (the screen is too narrow for both)")
	} else if m.Metric != ViewAccuracy && len(m.shown()) > maxLossMethods && m.h >= 30 {
		legend += "\n" + st.Muted.Render(fmt.Sprintf("support loss hidden with more than %d methods on: untick baselines (b) to see it", maxLossMethods))
	}
	legend = r.NewStyle().Width(m.w).Render(legend)
	bottomH := min(14, max(6, m.h/4)) // the hypothesis card: at least border, title and 3 lines
	chartH := max(6, m.h-lipgloss.Height(head)-lipgloss.Height(legend)-bottomH)
	accPanel := chart.Panel{Title: "Accuracy (0–1, higher is better)", XLabel: "step", YMin: 0, YMax: 1, YFixed: true,
		Refs: m.refs(), Series: acc, XMax: m.maxX()}
	lossPanel := chart.Panel{Title: "Loss (cross-entropy; solid query, dashed support)", XLabel: "step",
		Series: loss, XMax: m.maxX()}
	if len(m.shown()) > maxLossMethods {
		lossPanel.Title = "Query loss (cross-entropy, lower is better)"
	}
	// The evenly spaced ticks may not use every row: the spare ones go to
	// the step table below.
	if !(many && m.Metric != ViewLoss) {
		used := chart.Height(accPanel, chartH)
		if both || m.Metric == ViewLoss {
			used = max(used*btoi(both), chart.Height(lossPanel, chartH))
		}
		bottomH += chartH - used
		chartH = used
	}
	var charts string
	switch {
	case both:
		lw := (chartW - 2) / 2
		charts = lipgloss.JoinHorizontal(lipgloss.Top,
			r.NewStyle().Width(lw).Render(m.accuracyArea(accPanel, lw, chartH)), "  ",
			r.NewStyle().Width(chartW-lw-2).Render(chart.Render(st, chartW-lw-2, chartH, lossPanel)))
	case m.Metric == ViewLoss:
		charts = chart.Render(st, chartW, chartH, lossPanel)
	default:
		charts = m.accuracyArea(accPanel, chartW, chartH)
	}
	mid := r.NewStyle().Width(chartW).Height(chartH).MaxHeight(chartH).Render(charts)
	if noteW > 0 {
		mid = lipgloss.JoinHorizontal(lipgloss.Top, mid, "  ",
			r.NewStyle().Width(noteW).MaxHeight(chartH).Render(m.note(noteW, chartH)))
	}
	cardW := min(46, m.w/2)
	var bottom string
	if m.sel.open {
		bottom = m.sel.view(st, m.Sel().Baselines, m.w)
		// Where the checklist's first item lands (below its border and
		// heading), for mouse clicks.
		m.sel.firstRow = lipgloss.Height(head) + lipgloss.Height(mid) + lipgloss.Height(legend) + 2
	} else {
		var card string
		if m.Sel().Mode == MethodDecoupled {
			card = hypothesisCard(st, m.Current(), cardW, bottomH, bottomH >= 9, "Hypothesis")
		} else {
			card = hypothesisCard(st, m.Runs()[MethodDecoupled], cardW, bottomH, bottomH >= 9, "Hypothesis of the decoupled run")
		}
		tw := m.w - cardW - 2
		table := m.stepTable(st, m.Current(), tw, bottomH)
		bottom = lipgloss.JoinHorizontal(lipgloss.Top, r.NewStyle().Width(tw).Render(table), "  ", card)
	}
	out := lipgloss.JoinVertical(lipgloss.Left, head, mid, legend, bottom)
	return r.NewStyle().MaxHeight(m.h).MaxWidth(m.w).Render(out)
}

// maxOnePanel is the most accuracy curves drawn on one panel; with more,
// each method gets a small panel of its own (same axes, same reference
// lines) when they fit.
const maxOnePanel = 4

// accuracyArea draws the accuracy panel in w×h, as small multiples when
// many methods are on and the space allows panels of at least 6 rows.
func (m *Model) accuracyArea(p chart.Panel, w, h int) string {
	st := m.c.Styles
	n := len(p.Series)
	cols := max(1, min(3, w/34))
	rows := (n + cols - 1) / max(1, cols)
	if n <= maxOnePanel || rows == 0 || (h-1)/rows < 6 {
		return chart.Render(st, w, h, p)
	}
	r := st.Renderer()
	cw := (w - 2*(cols-1)) / cols
	ph := (h - 1) / rows
	var lines []string
	for i := 0; i < n; i += cols {
		var row []string
		for j := i; j < min(n, i+cols); j++ {
			one := p
			s := p.Series[j]
			one.Series = []chart.Series{s}
			one.Title = chart.LegendItem(st, s)
			if j > i {
				row = append(row, "  ")
			}
			row = append(row, r.NewStyle().Width(cw).Render(chart.Render(st, cw, ph, one)))
		}
		lines = append(lines, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	head := st.Heading.Render(p.Title + " — one panel per method")
	for _, ref := range p.Refs {
		head += st.Muted.Render(fmt.Sprintf("   %s %s", strings.Repeat(string(ref.Glyph), 3), ref.Label))
	}
	return common.Ellipsize(head, w) + "\n" + strings.Join(lines, "\n")
}

// stepTable wraps stepLines in a window of h lines: a running run follows
// its newest step, a finished one opens at its first trial; the arrow keys
// and the wheel move the window (m.top, -1 = automatic).
func (m *Model) stepTable(st *common.Styles, run *state.Run, w, h int) string {
	head, lines := stepLines(st, run, w)
	n := max(1, h-1)
	last := max(0, len(lines)-n)
	start := m.top
	if start < 0 {
		start = last
		if run != nil && run.Done {
			start = 0
		}
	}
	start = min(max(0, start), last)
	m.shownTop = start
	end := min(len(lines), start+n)
	title := head
	if last > 0 {
		// The position if it fits beside the header, else just the arrows.
		for _, ind := range []string{fmt.Sprintf("  %d–%d of %d ↑↓", start+1, end, len(lines)), " ↑↓"} {
			if lipgloss.Width(head)+lipgloss.Width(ind) <= w {
				title += st.Muted.Render(ind)
				break
			}
		}
	}
	return title + "\n" + strings.Join(lines[start:end], "\n")
}

// scrollBy moves the step table window by d rows.
func (m *Model) scrollBy(d int) {
	if m.top < 0 {
		m.top = m.shownTop
	}
	m.top = max(0, m.top+d)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
