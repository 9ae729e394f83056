// Package bench runs the results tables of the paper (methods × suites ×
// seeds) through one injected Runner, keeps every finished cell in a
// resumable JSON-lines file, and renders the tables (markdown, CSV, JSON,
// api.BenchTable) with Student-t 95% intervals over seeds, plus a PNG of the
// averages and of the methods' mean adaptation curves.
package bench

import (
	"math"
	"sort"
	"sync"

	"github.com/degaml/workbench/core/events"
)

// Cell identifies one run: a method adapted to one suite's held-out task
// instance picked by the seed.
type Cell struct {
	Method string
	Suite  string
	Seed   int64
}

// Record is one finished cell, one line of results-<key>.jsonl. Accuracy
// and ECE are fractions in [0, 1], as events.ResultInfo reports them.
type Record struct {
	Method   string                 `json:"method"`
	Suite    string                 `json:"suite"`
	Seed     int64                  `json:"seed"`
	Task     string                 `json:"task,omitempty"`
	Accuracy float64                `json:"accuracy"`
	N        int                    `json:"n"`
	ECE      *float64               `json:"ece,omitempty"`
	WallS    float64                `json:"wall_s"`
	Chosen   *events.HypothesisInfo `json:"chosen,omitempty"`
	// Flag is the run's events.ResultInfo.Flag: set when its numbers are
	// not to be trusted as a normal result (e.g. "diverged: …").
	Flag string `json:"flag,omitempty"`
	// Curves are this run's adaptation curves, one per phase ("inner",
	// "ttt", "slot", …). Kept per run (not per method) so that a resumed
	// bench averages exactly the runs in the table.
	Curves []Curve `json:"curves,omitempty"`
}

// Cell returns the record's key.
func (r Record) Cell() Cell { return Cell{r.Method, r.Suite, r.Seed} }

// Curve is the mean of one phase's Step events per step index.
type Curve struct {
	Phase  string       `json:"phase"`
	Points []CurvePoint `json:"points"`
}

// CurvePoint averages the metrics reported at one step. A metric is nil
// when no event at that step reported it; N counts the events averaged
// (DeGAML runs several hypotheses of one family, each a full curve).
type CurvePoint struct {
	Step        int      `json:"step"`
	SupportLoss *float64 `json:"support_loss,omitempty"`
	QueryLoss   *float64 `json:"query_loss,omitempty"`
	Accuracy    *float64 `json:"accuracy,omitempty"`
	N           int      `json:"n"`
}

// mean accumulates a running mean of finite values.
type mean struct {
	sum float64
	n   int
}

func (m *mean) add(p *float64) {
	if p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
		m.sum += *p
		m.n++
	}
}

func (m mean) value() *float64 {
	if m.n == 0 {
		return nil
	}
	return events.F(m.sum / float64(m.n))
}

type pointAcc struct {
	support, query, acc mean
	n                   int
}

type curveKey struct {
	phase string
	step  int
}

// curveRecorder turns the Step events of one run into Curves. Methods may
// publish from worker goroutines, hence the lock.
type curveRecorder struct {
	mu  sync.Mutex
	acc map[curveKey]*pointAcc
}

func newCurveRecorder() *curveRecorder { return &curveRecorder{acc: map[curveKey]*pointAcc{}} }

func (c *curveRecorder) observe(e events.Event) {
	if e.Kind != events.Step || e.Phase == "" || e.Step <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := curveKey{e.Phase, e.Step}
	p := c.acc[k]
	if p == nil {
		p = &pointAcc{}
		c.acc[k] = p
	}
	p.support.add(e.SupportLoss)
	p.query.add(e.QueryLoss)
	p.acc.add(e.Accuracy)
	p.n++
}

func (c *curveRecorder) curves() []Curve {
	c.mu.Lock()
	defer c.mu.Unlock()
	byPhase := map[string][]CurvePoint{}
	for k, p := range c.acc {
		byPhase[k.phase] = append(byPhase[k.phase], CurvePoint{Step: k.step,
			SupportLoss: p.support.value(), QueryLoss: p.query.value(), Accuracy: p.acc.value(), N: p.n})
	}
	return sortedCurves(byPhase)
}

func sortedCurves(byPhase map[string][]CurvePoint) []Curve {
	var out []Curve
	for ph, pts := range byPhase {
		sort.Slice(pts, func(i, j int) bool { return pts[i].Step < pts[j].Step })
		out = append(out, Curve{Phase: ph, Points: pts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Phase < out[j].Phase })
	return out
}

// MethodCurves averages the runs' curves per method and phase, each run
// weighing the same (a run with three TTT hypotheses is one run, not three).
// Steps reached by fewer than half of the phase's runs are dropped: runs
// differ in length (DeGAML picks 1–12 steps per hypothesis), and a tail
// averaged over a few long runs would show their level, not a trend.
func MethodCurves(recs []Record) map[string][]Curve {
	type acc struct{ support, query, accu mean }
	per := map[string]map[curveKey]*acc{}
	for _, r := range recs {
		for _, c := range r.Curves {
			for _, p := range c.Points {
				m := per[r.Method]
				if m == nil {
					m = map[curveKey]*acc{}
					per[r.Method] = m
				}
				k := curveKey{c.Phase, p.Step}
				a := m[k]
				if a == nil {
					a = &acc{}
					m[k] = a
				}
				a.support.add(p.SupportLoss)
				a.query.add(p.QueryLoss)
				a.accu.add(p.Accuracy)
			}
		}
	}
	out := map[string][]Curve{}
	for method, m := range per {
		runs := map[string]int{} // most runs at any step of a phase
		for k, a := range m {
			runs[k.phase] = max(runs[k.phase], a.support.n, a.query.n, a.accu.n)
		}
		byPhase := map[string][]CurvePoint{}
		for k, a := range m {
			n := max(a.support.n, a.query.n, a.accu.n)
			if 2*n < runs[k.phase] {
				continue
			}
			byPhase[k.phase] = append(byPhase[k.phase], CurvePoint{Step: k.step,
				SupportLoss: a.support.value(), QueryLoss: a.query.value(), Accuracy: a.accu.value(), N: n})
		}
		out[method] = sortedCurves(byPhase)
	}
	return out
}
