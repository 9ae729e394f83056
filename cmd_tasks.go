package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/tasks/suites"
)

func init() {
	register("tasks", "list the built-in task suites (--json)", cmdTasks)
}

// suiteJSON is one line of `workbench tasks --json`; other tools parse it.
type suiteJSON struct {
	Name        string         `json:"name"`
	Domain      string         `json:"domain"`
	SplitRole   string         `json:"split_role"`
	Description string         `json:"description"`
	Examples    map[string]int `json:"examples"`
	Instances   int            `json:"instances"`
}

// cmdTasks is `workbench tasks [--json]`.
func cmdTasks(args []string) error {
	fs := newFlags("tasks")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per suite")
	var cf commonFlags
	cf.registerPlaces(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := cf.load(); err != nil { // a bad --config is an error here too
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tasks: unknown subcommand %q (have: show, check)", fs.Arg(0))
	}
	var out []suiteJSON
	for _, f := range suites.All() {
		t := pipeline.EvalTask(f, 0)
		out = append(out, suiteJSON{
			Name: f.Name(), Domain: f.Domain(), SplitRole: string(f.Role()), Description: f.Description(),
			Examples:  map[string]int{"train": len(t.Splits.Train), "val": len(t.Splits.Val), "test": len(t.Splits.Test)},
			Instances: f.NumInstances(),
		})
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUITE\tROLE\tDOMAIN\tTRAIN/VAL/TEST\tDESCRIPTION")
	for _, s := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d/%d\t%s\n", s.Name, s.SplitRole, s.Domain,
			s.Examples["train"], s.Examples["val"], s.Examples["test"], s.Description)
	}
	fmt.Fprintln(tw, "\nSee `workbench tasks show NAME` for examples and the hidden parameters of an instance.")
	return tw.Flush()
}
