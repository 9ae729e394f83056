package adapt

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/chart"
	"github.com/degaml/workbench/tui/pipeline"
	"github.com/degaml/workbench/tui/state"
)

// order is the chart's method order: the two modes first, then baselines,
// so colours stay put as methods are added.
func order() []string { return append([]string{MethodGen, MethodDecoupled}, Baselines...) }

// Series builds the chart series for the current metric view. A run that
// reported a result but no steps (generalization-only: one forward pass) is
// drawn as a flat accuracy line so it stays comparable.
func (m *Model) Series() []chart.Series {
	runs := m.Runs()
	st := m.c.Styles
	maxX := 1.0
	for _, r := range runs {
		if n := float64(len(r.Steps)); n > maxX {
			maxX = n
		}
	}
	var out []chart.Series
	for mi, method := range order() {
		r := runs[method]
		if r == nil {
			continue
		}
		add := func(k int, name, short string, get func(state.StepRow) *float64) {
			var pts []state.Point
			for i, row := range r.Steps {
				if v := get(row); v != nil {
					pts = append(pts, state.Point{X: float64(i + 1), Y: *v})
				}
			}
			if len(pts) > 0 {
				out = append(out, chart.Series{Name: method + " " + name, Group: method, Label: short,
					Points: pts, Style: st.SeriesStyle(mi*3 + k)})
			}
		}
		if m.Metric != ViewAccuracy {
			add(0, "support", "sup", func(s state.StepRow) *float64 { return s.Support })
			add(1, "query", "qry", func(s state.StepRow) *float64 { return s.Query })
		}
		if m.Metric != ViewLoss {
			n := len(out)
			add(2, "acc", "acc", func(s state.StepRow) *float64 { return s.Acc })
			if len(out) == n && r.Result != nil {
				a := r.Result.Accuracy
				out = append(out, chart.Series{Name: method + " acc (final)", Group: method, Label: "acc (final)",
					Points: []state.Point{{X: 1, Y: a}, {X: maxX, Y: a}}, Style: st.SeriesStyle(mi*3 + 2)})
			}
		}
	}
	return out
}

func metricName(v int) string {
	return [...]string{"loss + accuracy", "loss", "accuracy"}[v]
}

func knobsLabel(k api.Knobs) string {
	if k == (api.Knobs{}) {
		return "default"
	}
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
	return strings.Join(p, " ")
}

// header holds the stable labels the e2e test greps for.
func (m *Model) header() string {
	st := m.c.Styles
	suite := m.Suite
	if suite == "" {
		suite = "(none — pick one on Tasks)"
	}
	l1 := st.Label.Render("Task: ") + st.Value.Render(suite) +
		st.Label.Render("   Mode: ") + st.Accent.Bold(true).Render(ModeLabel(m.Mode)) +
		st.Label.Render("   Seed: ") + st.Value.Render(fmt.Sprint(m.Seed)) +
		st.Label.Render("   Knobs: ") + st.Base.Render(knobsLabel(m.Knobs))
	l2 := st.Label.Render("View: ") + st.Base.Render(metricName(m.Metric)) + "   " + m.statusLine()
	return l1 + "\n" + l2
}

func (m *Model) statusLine() string {
	st := m.c.Styles
	r := m.Current()
	switch {
	case m.pending[m.Mode]:
		return st.Muted.Render("starting " + m.Mode + "…")
	case r == nil:
		return st.Muted.Render("not run")
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

func (m *Model) note(w int) string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(st.Heading.Render("What is happening") + "\n")
	b.WriteString(st.Base.Width(w).Render(MethodNote(m.Mode)))
	if m.Mode == MethodDecoupled {
		if r := m.Current(); r != nil {
			fam := ""
			if r.Chosen != nil {
				fam = r.Chosen.Family
			} else if n := len(r.Hyps); n > 0 {
				fam = r.Hyps[n-1].Family
			}
			if fam != "" {
				b.WriteString("\n\n" + st.Muted.Width(w).Render(FamilyNote(fam)))
			}
		}
	}
	for _, bl := range Baselines {
		if m.Shown[bl] && w >= 30 {
			b.WriteString("\n\n" + st.Muted.Width(w).Render(bl+": "+firstSentence(MethodNote(bl))))
		}
	}
	return b.String()
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// View lays out header, chart + note, legend, and step table + card.
func (m *Model) View() string {
	key := fmt.Sprint(m.Mode, m.Metric, m.Suite, m.Seed, m.Knobs, m.sel.open, m.sel.cursor, len(m.pending), m.Shown)
	if m.cacheVer == m.c.Store.Version && m.cacheW == m.w && m.cacheH == m.h && m.cacheKey == key {
		return m.cacheOut
	}
	m.cacheVer, m.cacheW, m.cacheH, m.cacheKey = m.c.Store.Version, m.w, m.h, key
	m.cacheOut = m.render()
	return m.cacheOut
}

func (m *Model) render() string {
	st := m.c.Styles
	r := st.Renderer()
	head := m.header()
	series := m.Series()
	noteW := min(40, max(24, m.w/3))
	chartW := m.w - noteW - 2
	legend := chart.Legend(series, m.w)
	if legend == "" {
		legend = st.Muted.Render("no curves yet — steps appear here as the engine reports them")
	}
	bottomH := 7 // the hypothesis card: border, title and 4 lines
	if m.h >= 30 {
		bottomH = 9
	}
	chartH := m.h - lipgloss.Height(head) - 1 - lipgloss.Height(legend) - bottomH
	if chartH < 4 {
		chartH = 4
	}
	ch := chart.Render(st, chartW, chartH, series)
	mid := lipgloss.JoinHorizontal(lipgloss.Top,
		r.NewStyle().Width(chartW).Height(chartH).Render(ch), "  ",
		r.NewStyle().Width(noteW).MaxHeight(chartH).Render(m.note(noteW)))
	cardW := min(44, m.w/2)
	var bottom string
	if m.sel.open {
		bottom = m.sel.view(st, m.Shown, m.w)
	} else {
		var card string
		if m.Mode == MethodDecoupled {
			card = hypothesisCard(st, m.Current(), cardW, bottomH, bottomH >= 9, "Hypothesis")
		} else {
			card = hypothesisCard(st, m.Runs()[MethodDecoupled], cardW, bottomH, bottomH >= 9, "Hypothesis of the decoupled run")
		}
		table := stepTable(st, m.Current(), m.w-cardW-2, bottomH)
		bottom = lipgloss.JoinHorizontal(lipgloss.Top, r.NewStyle().Width(m.w-cardW-2).Render(table), "  ", card)
	}
	out := lipgloss.JoinVertical(lipgloss.Left, head, "", mid, legend, bottom)
	return r.NewStyle().MaxHeight(m.h).MaxWidth(m.w).Render(out)
}
