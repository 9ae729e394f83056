package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// Request is what a user asks of a bench; its zero fields fall back to
// the config and the preset.
type Request struct {
	Methods string // comma- or space-separated; "" = the config's [bench].methods
	Suites  string // comma- or space-separated; "" = all twelve
	Seeds   int    // 0 = the config's [bench].seeds bounded by the preset
	// Files, when set, replaces the built-in suites: its datasets are the
	// columns, in-domain files first, each block in the order given.
	Files *pipeline.TaskSet
}

// MaxSeeds is the most seeds a bench runs per cell, as [bench].seeds allows.
const MaxSeeds = 1000

// NewPlan resolves a request's methods, suites and seeds from the request,
// the config (cfgMethods, cfgSeeds) and the preset; the layout puts the
// suites in their paper blocks.
func NewPlan(req Request, cfgMethods []string, cfgSeeds int, preset Preset) (Plan, Layout, error) {
	var plan Plan
	plan.Methods = cfgMethods
	if req.Methods != "" {
		plan.Methods = splitList(req.Methods)
	}
	if len(plan.Methods) == 0 {
		return plan, Layout{}, errors.New("bench: no methods")
	}
	for _, m := range plan.Methods {
		if !slices.Contains(meta.Names(), m) {
			return plan, Layout{}, fmt.Errorf("bench: unknown method %q (have %s)", m, strings.Join(meta.Names(), ", "))
		}
	}
	// The same bounds as the config's [bench].seeds: a negative count is a
	// typo, and a huge one would allocate and queue cells for days.
	if req.Seeds < 0 || req.Seeds > MaxSeeds {
		return plan, Layout{}, fmt.Errorf("bench: --seeds %d: want 1…%d (0 or unset: the config's [bench].seeds)", req.Seeds, MaxSeeds)
	}
	var layout Layout
	if req.Files != nil {
		if req.Suites != "" {
			return plan, layout, errors.New("bench: --suites names built-in suites; with task files every file is a column (leave out the files you do not want)")
		}
		layout = Layout{InDomain: req.Files.Names(tasks.InDomain), OutOfDomain: req.Files.Names(tasks.OutOfDomain)}
	} else {
		names := suites.Names()
		if req.Suites != "" {
			names = splitList(req.Suites)
		}
		var err error
		if layout, err = SplitSuites(names); err != nil {
			return plan, layout, fmt.Errorf("bench: %w", err)
		}
	}
	plan.Suites = append(slices.Clone(layout.InDomain), layout.OutOfDomain...)
	// [bench].seeds, bounded by the preset in the direction of its purpose:
	// quick caps it to stay within its time budget, paper asks at least 5.
	n := max(cfgSeeds, 1)
	if preset.Name == "paper" {
		n = max(n, preset.Seeds)
	} else {
		n = min(n, preset.Seeds)
	}
	if req.Seeds > 0 {
		n = req.Seeds
	}
	plan.Seeds = Seeds(n)
	return plan, layout, nil
}

// splitList splits a comma- or space-separated list, dropping repeats.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Chance is uniform guessing's expected accuracy on the test items the
// plan evaluates, per built-in suite.
func Chance(plan Plan) map[string]float64 {
	return chance(plan, func(suite string, seed int64) (*tasks.Task, error) {
		f, err := suites.ByName(suite)
		if err != nil {
			return nil, err
		}
		return pipeline.EvalTask(f, seed), nil
	})
}

// ChanceOn is Chance over the tasks wb evaluates, a file task set's
// datasets included.
func ChanceOn(wb *pipeline.Workbench, plan Plan) map[string]float64 { return chance(plan, wb.Task) }

func chance(plan Plan, task func(suite string, seed int64) (*tasks.Task, error)) map[string]float64 {
	out := map[string]float64{}
	for _, su := range plan.Suites {
		sum, n := 0.0, 0
		for _, seed := range plan.Seeds {
			t, err := task(su, seed)
			if err != nil {
				break
			}
			for _, ex := range t.Splits.Test {
				if len(ex.Options) > 0 {
					sum += 1 / float64(len(ex.Options))
					n++
				}
			}
		}
		if n > 0 {
			out[su] = sum / float64(n)
		}
	}
	return out
}

// Records keeps the records of the plan's cells (a results file may hold
// more seeds or methods from earlier runs).
func (p Plan) Records(recs []Record) []Record {
	var out []Record
	for _, r := range recs {
		if slices.Contains(p.Methods, r.Method) && slices.Contains(p.Suites, r.Suite) && slices.Contains(p.Seeds, r.Seed) {
			out = append(out, r)
		}
	}
	return out
}
