package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/degaml/workbench/core/pipeline"
)

// taskFileFlags are run's and bench's --tasks and --ood-tasks: a
// researcher's benchmark files in place of the built-in suites, each flag
// giving its files' role in the paper protocol.
type taskFileFlags struct {
	inDomain, outOfDomain []string
}

func (f *taskFileFlags) register(c *cobra.Command) {
	fs := c.Flags()
	// StringArray, not StringSlice: a path may hold a comma.
	fs.StringArrayVar(&f.inDomain, "tasks", nil, "an in-domain benchmark `file` (repeatable; NAME=FILE names its dataset): "+
		"meta-training uses the in-domain files, the paper protocol leaves out the one evaluated")
	fs.StringArrayVar(&f.outOfDomain, "ood-tasks", nil, "an out-of-domain benchmark `file` (repeatable; NAME=FILE): "+
		"evaluated after meta-training on every in-domain file, never trained on")
	c.MarkFlagFilename("tasks", "json", "jsonl")
	c.MarkFlagFilename("ood-tasks", "json", "jsonl")
}

// load reads every file (nil when none was given); a bad file is a
// FILE:LINE error before anything trains.
func (f *taskFileFlags) load(cmd string) (*pipeline.TaskSet, error) {
	if len(f.inDomain)+len(f.outOfDomain) == 0 {
		return nil, nil
	}
	set, err := pipeline.LoadTaskFiles(pipeline.TaskFileArgs(f.inDomain, f.outOfDomain))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return set, nil
}
