package bench

import (
	"fmt"
	"math"
	"slices"

	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/scoring"
	"github.com/degaml/workbench/tasks/suites"
)

// Names of the average columns (the JSON "suite" of the average rows).
const (
	AvgInDomain    = "avg-in-domain"
	AvgOutOfDomain = "avg-out-of-domain"
)

// Layout splits the bench's suites into the paper's two blocks.
type Layout struct {
	InDomain, OutOfDomain []string
}

// Columns are the suites, in-domain block first, then the two averages.
func (l Layout) Columns() []string {
	return append(append(slices.Clone(l.InDomain), l.OutOfDomain...), AvgInDomain, AvgOutOfDomain)
}

// SplitSuites places built-in suites in their paper block by role, keeping
// the given order.
func SplitSuites(names []string) (Layout, error) {
	var l Layout
	for _, n := range names {
		f, err := suites.ByName(n)
		if err != nil {
			return l, err
		}
		if f.Role() == tasks.InDomain {
			l.InDomain = append(l.InDomain, n)
		} else {
			l.OutOfDomain = append(l.OutOfDomain, n)
		}
	}
	return l, nil
}

// Stat is one table cell over seeds. Mean/CI95 are fractions; CI95 is the
// Student-t 95% half-width, NaN with fewer than two seeds; Mean is NaN when
// no seed finished. ECE likewise (NaN when the runs reported none).
type Stat struct {
	Mean, CI95    float64
	Seeds         int
	WallS         float64 // mean wall seconds of one run (adaptation + evaluation)
	ECE, ECECI95  float64
	ECESeeds      int
	SeedsExpected int // the plan's seed count, to flag incomplete cells
	// Flagged counts the seeds whose run (or, for a block average, one of
	// whose runs) reported a ResultInfo.Flag: the mean includes numbers
	// not to be trusted as a normal result, and the tables say so.
	Flagged int
}

// Empty reports a cell with no finished seed.
func (s Stat) Empty() bool { return s.Seeds == 0 }

// Table is a bench's results: methods × (suites + block averages).
type Table struct {
	Title    string
	Protocol string // "paper" or "worlds" (README "Protocols"); "" when unknown
	Methods  []string
	Layout   Layout
	Seeds    []int64
	Cells    map[string]map[string]Stat // method → column → stat
	// Chance is the accuracy of uniform guessing per suite (optional): the
	// suites mix 2- and 4-option items, so raw numbers need this reference.
	Chance map[string]float64
}

// Cell returns a stat (zero Stat with NaNs when absent).
func (t *Table) Cell(method, column string) Stat {
	if s, ok := t.Cells[method][column]; ok {
		return s
	}
	return Stat{Mean: math.NaN(), CI95: math.NaN(), ECE: math.NaN(), ECECI95: math.NaN(), SeedsExpected: len(t.Seeds)}
}

// Build aggregates the records of the plan's cells. Per suite: mean and t
// interval of accuracy over seeds. Per block average: for every seed that
// finished all of the block's suites, the mean over those suites; then mean
// and t interval over those per-seed averages (so the interval reflects
// seed-to-seed variation of the average, not between-suite spread). A seed
// missing a suite is left out of the average rather than biasing it.
func Build(title string, plan Plan, layout Layout, recs []Record) *Table {
	t := &Table{Title: title, Methods: plan.Methods, Layout: layout, Seeds: plan.Seeds, Cells: map[string]map[string]Stat{}}
	idx := map[Cell]Record{}
	for _, r := range recs {
		idx[r.Cell()] = r
	}
	for _, m := range plan.Methods {
		row := map[string]Stat{}
		for _, su := range append(slices.Clone(layout.InDomain), layout.OutOfDomain...) {
			var acc, ece, wall []float64
			flagged := 0
			for _, s := range plan.Seeds {
				r, ok := idx[Cell{m, su, s}]
				if !ok {
					continue
				}
				if r.Flag != "" {
					flagged++
				}
				acc = append(acc, r.Accuracy)
				wall = append(wall, r.WallS)
				if r.ECE != nil {
					ece = append(ece, *r.ECE)
				}
			}
			row[su] = stat(acc, ece, wall, len(plan.Seeds))
			row[su] = withFlagged(row[su], flagged)
		}
		for col, block := range map[string][]string{AvgInDomain: layout.InDomain, AvgOutOfDomain: layout.OutOfDomain} {
			var acc, ece, wall []float64
			flagged := 0
			for _, s := range plan.Seeds {
				a, e, w, ok := seedAverage(idx, m, block, s)
				if !ok {
					continue
				}
				if slices.ContainsFunc(block, func(su string) bool { return idx[Cell{m, su, s}].Flag != "" }) {
					flagged++
				}
				acc = append(acc, a)
				wall = append(wall, w)
				if !math.IsNaN(e) {
					ece = append(ece, e)
				}
			}
			row[col] = withFlagged(stat(acc, ece, wall, len(plan.Seeds)), flagged)
		}
		t.Cells[m] = row
	}
	return t
}

// seedAverage is one seed's mean accuracy (and ECE, NaN unless every suite
// reported one; and mean wall time) over a block of suites.
func seedAverage(idx map[Cell]Record, method string, block []string, seed int64) (acc, ece, wall float64, ok bool) {
	if len(block) == 0 {
		return 0, 0, 0, false
	}
	eceOK := true
	for _, su := range block {
		r, found := idx[Cell{method, su, seed}]
		if !found {
			return 0, 0, 0, false
		}
		acc += r.Accuracy
		wall += r.WallS
		if r.ECE == nil {
			eceOK = false
		} else {
			ece += *r.ECE
		}
	}
	n := float64(len(block))
	if !eceOK {
		return acc / n, math.NaN(), wall / n, true
	}
	return acc / n, ece / n, wall / n, true
}

func withFlagged(s Stat, n int) Stat { s.Flagged = n; return s }

func stat(acc, ece, wall []float64, expected int) Stat {
	s := Stat{Seeds: len(acc), ECESeeds: len(ece), SeedsExpected: expected}
	s.Mean, s.CI95 = scoring.MeanCI95(acc)
	s.ECE, s.ECECI95 = scoring.MeanCI95(ece)
	if len(wall) > 0 {
		s.WallS, _ = scoring.MeanCI95(wall)
	}
	return s
}

// Incomplete reports cells with fewer seeds than planned (marked in tables).
func (s Stat) Incomplete() bool { return s.Seeds > 0 && s.Seeds < s.SeedsExpected }

// String is "mean ± ci" in percent, as in the paper's tables.
func (s Stat) String() string { return pct(s.Mean, s.CI95, s.Seeds) }

func pct(mean, ci float64, n int) string {
	switch {
	case n == 0 || math.IsNaN(mean):
		return "—"
	case math.IsNaN(ci):
		return fmt.Sprintf("%.1f", 100*mean)
	}
	return fmt.Sprintf("%.1f ± %.1f", 100*mean, 100*ci)
}

// flaggedRuns counts the table's flagged runs (per-suite cells only: an
// average's flags are its suites').
func (t *Table) flaggedRuns() int {
	n := 0
	for _, m := range t.Methods {
		for _, su := range append(slices.Clone(t.Layout.InDomain), t.Layout.OutOfDomain...) {
			n += t.Cell(m, su).Flagged
		}
	}
	return n
}
