package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/degaml/workbench/core/api"
)

// suiteTitles are the paper's column names (the row names are core/api's
// method labels); the machine formats (JSON, CSV) keep the ids.
var suiteTitles = map[string]string{
	"arc-easy": "ARC-e", "arc-challenge": "ARC-c", "hellaswag": "HellaSwag", "boolq": "BoolQ",
	"piqa": "PIQA", "winogrande": "WinoGrande", "gsm-mc": "GSM-MC", "math-mc": "MATH-MC",
	"logic": "Logic", "social": "Social", "code": "Code", "medical": "Medical",
}

func title(m map[string]string, id string) string {
	if t, ok := m[id]; ok {
		return t
	}
	return id
}

// protocolNotes say what each evaluation protocol holds out (the names are
// core/pipeline's ProtocolPaper and ProtocolWorlds).
var protocolNotes = map[string]string{
	"paper": "each in-domain suite (or file) is evaluated after collection and meta-training on the other in-domain ones; " +
		"out-of-domain ones after meta-training on all in-domain ones (never on themselves).",
	"worlds": "held-out worlds (new tags, seen regimes; for files, held-out items) of the suites every method meta-trained on (all in-domain ones); " +
		"an upper reference for the in-domain rows.",
}

// Markdown writes the paper-style tables: the in-domain block, the
// out-of-domain block (each with Avg and ECE columns), and the ablation
// base → +generalization → +adaptation.
func (t *Table) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", t.Title)
	fmt.Fprintf(&b, "Accuracy %% on held-out task instances, mean ± 95%% CI (Student t) over %d seed(s). "+
		"Avg: each seed's mean over the block's suites, then mean ± CI over seeds. "+
		"ECE: expected calibration error (lower is better), averaged the same way.\n", len(t.Seeds))
	if d := protocolNotes[t.Protocol]; d != "" {
		fmt.Fprintf(&b, "\nProtocol %s: %s\n", t.Protocol, d)
	}
	incomplete := false
	block := func(name string, suites []string, avg string) {
		if len(suites) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n## %s\n\n| Method |", name)
		for _, s := range suites {
			fmt.Fprintf(&b, " %s |", title(suiteTitles, s))
		}
		b.WriteString(" Avg | ECE |\n|:--|")
		b.WriteString(strings.Repeat("--:|", len(suites)+2))
		b.WriteString("\n")
		if len(t.Chance) > 0 {
			b.WriteString("| *Chance* |")
			sum, n := 0.0, 0
			for _, s := range suites {
				if c, ok := t.Chance[s]; ok {
					fmt.Fprintf(&b, " *%.1f* |", 100*c)
					sum, n = sum+c, n+1
				} else {
					b.WriteString(" — |")
				}
			}
			if n == len(suites) {
				fmt.Fprintf(&b, " *%.1f* | — |\n", 100*sum/float64(n))
			} else {
				b.WriteString(" — | — |\n")
			}
		}
		for _, m := range t.Methods {
			fmt.Fprintf(&b, "| %s |", api.Method(m).Label())
			for _, s := range append(slices.Clone(suites), avg) {
				c := t.Cell(m, s)
				incomplete = incomplete || c.Incomplete()
				fmt.Fprintf(&b, " %s |", mdCell(c))
			}
			fmt.Fprintf(&b, " %s |\n", eceCell(t.Cell(m, avg)))
		}
	}
	block("In-domain", t.Layout.InDomain, AvgInDomain)
	block("Out-of-domain", t.Layout.OutOfDomain, AvgOutOfDomain)

	stages := []struct{ stage, method string }{
		{"Base model", string(api.MethodBase)}, {"+ Generalization (G)", string(api.MethodDeGAMLGen)},
		{"+ Adaptation (π)", string(api.MethodDeGAML)},
	}
	var rows []string
	for _, s := range stages {
		if !slices.Contains(t.Methods, s.method) {
			continue
		}
		in, out := t.Cell(s.method, AvgInDomain), t.Cell(s.method, AvgOutOfDomain)
		incomplete = incomplete || in.Incomplete() || out.Incomplete()
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", s.stage, api.Method(s.method).Label(), mdCell(in), mdCell(out)))
	}
	if len(rows) >= 2 {
		b.WriteString("\n## Ablation: decoupling generalization and adaptation\n\n")
		b.WriteString("| Stage | Method | In-domain Avg | Out-of-domain Avg |\n|:--|:--|--:|--:|\n")
		b.WriteString(strings.Join(rows, "\n") + "\n")
	}
	if incomplete {
		b.WriteString("\n† fewer seeds finished than planned; run the bench again to complete them.\n")
	}
	if n := t.flaggedRuns(); n > 0 {
		fmt.Fprintf(&b, "\n‡ includes %d flagged run(s) (e.g. a diverged adaptation): their accuracy is counted but not to be trusted "+
			"as a normal result; the results file's \"flag\" field says why.\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s Stat) string {
	out := s.String()
	if s.Incomplete() {
		out += " †"
	}
	if s.Flagged > 0 {
		out += " ‡"
	}
	return out
}

func eceCell(s Stat) string {
	switch {
	case s.ECESeeds == 0 || math.IsNaN(s.ECE):
		return "—"
	case math.IsNaN(s.ECECI95):
		return fmt.Sprintf("%.3f", s.ECE)
	}
	return fmt.Sprintf("%.3f ± %.3f", s.ECE, s.ECECI95)
}

// JSONCell is one line of `bench --json`: a (method, suite) cell or a block
// average (suite "avg-in-domain" / "avg-out-of-domain"). Numbers are
// fractions in [0, 1]; an undefined value (one seed's CI, no ECE) is null.
type JSONCell struct {
	Method  string   `json:"method"`
	Suite   string   `json:"suite"`
	Mean    *float64 `json:"mean"`
	CI95    *float64 `json:"ci95"`
	Seeds   int      `json:"seeds"`
	WallS   float64  `json:"wall_s"`
	ECE     *float64 `json:"ece,omitempty"`
	ECECI95 *float64 `json:"ece_ci95,omitempty"`
	Flagged int      `json:"flagged,omitempty"` // seeds with a flagged run (Stat.Flagged)
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// JSONCells lists every cell, method-major, in column order.
func (t *Table) JSONCells() []JSONCell {
	var out []JSONCell
	for _, m := range t.Methods {
		for _, col := range t.Layout.Columns() {
			c := t.Cell(m, col)
			out = append(out, JSONCell{Method: m, Suite: col, Mean: finite(c.Mean), CI95: finite(c.CI95),
				Seeds: c.Seeds, WallS: round(c.WallS, 3), ECE: finite(c.ECE), ECECI95: finite(c.ECECI95), Flagged: c.Flagged})
		}
	}
	return out
}

// JSON writes one JSON object per line per cell.
func (t *Table) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, c := range t.JSONCells() {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}

// CSV writes the same cells as JSON, one row each; empty fields are undefined.
func (t *Table) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"method", "suite", "mean", "ci95", "seeds", "wall_s", "ece", "ece_ci95"})
	for _, c := range t.JSONCells() {
		_ = cw.Write([]string{c.Method, c.Suite, num(c.Mean, 4), num(c.CI95, 4), strconv.Itoa(c.Seeds),
			strconv.FormatFloat(c.WallS, 'f', 2, 64), num(c.ECE, 4), num(c.ECECI95, 4)})
	}
	cw.Flush()
	return cw.Error()
}

func num(p *float64, prec int) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', prec, 64)
}

func round(x float64, prec int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, float64(prec))
	return math.Round(x*p) / p
}

// API converts the table to the facade's BenchTable (what LatestBench
// serves to the TUI): columns are the suites then the two averages; an
// undefined interval is 0 and a cell with no seed has N == 0.
func (t *Table) API() *api.BenchTable {
	bt := &api.BenchTable{Title: t.Title, Columns: t.Layout.Columns()}
	for _, m := range t.Methods {
		row := api.BenchRow{Method: m}
		for _, col := range bt.Columns {
			c := t.Cell(m, col)
			cell := api.BenchCell{N: c.Seeds, Flagged: c.Flagged}
			if c.Seeds > 0 {
				cell.Mean = c.Mean
				if !math.IsNaN(c.CI95) {
					cell.CI95 = c.CI95
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		bt.Rows = append(bt.Rows, row)
	}
	return bt
}
