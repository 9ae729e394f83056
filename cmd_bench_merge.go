package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/degaml/workbench/core/bench"
)

// benchMerge implements `workbench bench merge [--json|--csv|--md] [--plot FILE.png] DIR...`: the tables of a
// bench run as shards (`bench --shard I/N`), from the shards' work directories (or their bench/ folders, or
// results files). Every store must come from the same config (hash) and plan; missing shards are named and
// their cells shown as "—", and the command then fails so that a script notices.
func benchMerge(w io.Writer, args []string) error {
	fs := newFlags("bench merge")
	var bf benchFlags
	fs.BoolVar(&bf.json, "json", false, "print one JSON object per (method, suite) cell")
	fs.BoolVar(&bf.csv, "csv", false, "print the cells as CSV")
	fs.BoolVar(&bf.md, "md", false, "print markdown tables (the default)")
	fs.StringVar(&bf.plot, "plot", "", "also write a PNG of the merged table")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return errors.New("bench merge: give the shards' work directories (or results files)")
	}
	if n := benchB2I(bf.json) + benchB2I(bf.csv) + benchB2I(bf.md); n > 1 {
		return errors.New("bench merge: choose one of --json, --csv, --md")
	}
	if bf.plot != "" && !strings.HasSuffix(strings.ToLower(bf.plot), ".png") {
		return fmt.Errorf("bench merge: --plot %s: the plot is a PNG (name it FILE.png)", bf.plot)
	}
	m, err := bench.Merge(dirs)
	if err != nil {
		return err
	}
	plan := m.Manifest.Plan()
	t := bench.Build(m.Manifest.Title, plan, m.Manifest.Layout, m.Records)
	t.Chance = bench.Chance(plan)
	if err := printBenchTable(w, t, bf); err != nil {
		return err
	}
	if bf.plot != "" {
		if err := bench.SavePNG(bf.plot, t, bench.MethodCurves(plan.Records(m.Records))); err != nil {
			return fmt.Errorf("bench merge: --plot: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "bench merge: %d cells of %d from %d results file(s), config %s\n",
		len(m.Records), len(plan.Cells()), len(m.Files), m.Manifest.Key)
	if m.Skipped > 0 {
		fmt.Fprintf(os.Stderr, "bench merge: %d unreadable line(s) ignored\n", m.Skipped)
	}
	if m.Duplicates > 0 {
		fmt.Fprintf(os.Stderr, "bench merge: %d cell(s) found in several stores; the first shard's kept\n", m.Duplicates)
	}
	if len(m.Missing) > 0 {
		return fmt.Errorf("bench merge: shard(s) %v of %d missing: their cells are absent from the table", m.Missing, m.Manifest.Shards)
	}
	if len(m.Records) < len(plan.Cells()) {
		return fmt.Errorf("bench merge: %d of %d cells are not finished yet (shards still running or failed cells)", len(plan.Cells())-len(m.Records), len(plan.Cells()))
	}
	return nil
}
