package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/loaders"
	"github.com/degaml/workbench/tasks/suites"
)

// suiteJSON is one line of `workbench tasks --json`; other tools parse it.
type suiteJSON struct {
	Name        string         `json:"name"`
	Domain      string         `json:"domain"`
	SplitRole   string         `json:"split_role"`
	Description string         `json:"description"`
	Examples    map[string]int `json:"examples"`
	Instances   int            `json:"instances"`
}

// newTasksCmd is `workbench tasks [--json]`, with show and check below it.
func newTasksCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "list the built-in task suites (--json)",
		RunE: func(_ *cobra.Command, args []string) error {
			if _, err := a.load(); err != nil { // a bad --config is an error here too
				return err
			}
			if len(args) > 0 {
				return fmt.Errorf("tasks: unknown subcommand %q (have: show, check)", args[0])
			}
			return listTasks(a.stdout, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per suite")
	cmd.AddCommand(newTasksShowCmd(a), newTasksCheckCmd(a))
	return cmd
}

func listTasks(w io.Writer, asJSON bool) error {
	var out []suiteJSON
	for _, f := range suites.All() {
		t := pipeline.EvalTask(f, 0)
		out = append(out, suiteJSON{
			Name: f.Name(), Domain: f.Domain(), SplitRole: string(f.Role()), Description: f.Description(),
			Examples:  map[string]int{"train": len(t.Splits.Train), "val": len(t.Splits.Val), "test": len(t.Splits.Test)},
			Instances: f.NumInstances(),
		})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUITE\tROLE\tDOMAIN\tTRAIN/VAL/TEST\tDESCRIPTION")
	for _, s := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d/%d\t%s\n", s.Name, s.SplitRole, s.Domain,
			s.Examples["train"], s.Examples["val"], s.Examples["test"], s.Description)
	}
	fmt.Fprintln(tw, "\nSee `workbench tasks show NAME` for examples and the hidden parameters of an instance.")
	return tw.Flush()
}

// showOptions are `workbench tasks show`'s flags.
type showOptions struct {
	n, instance  int
	seed         int64
	level, split string
}

// newTasksShowCmd is
//
//	workbench tasks show NAME [--n N] [--seed S] [--instance I] [--level easy|challenge] [--split train|val|test]
//
// It prints one instance of a built-in suite: its hidden parameters and N
// examples in DnD format with the gold response, so a student can see what
// adaptation has to discover. NAME may carry the instance, as in "math-mc#17".
func newTasksShowCmd(a *app) *cobra.Command {
	var o showOptions
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "print a built-in suite instance: hidden parameters + examples",
		Long: "Print one instance of a built-in suite: its hidden parameters and N examples in DnD format with the\n" +
			"gold response, so you can see what adaptation has to discover. NAME may carry the instance, as in\n" +
			"math-mc#17.\n\nsuites: " + strings.Join(suites.Names(), ", "),
		RunE: func(cmd *cobra.Command, args []string) error {
			return tasksShow(a.stdout, &o, cmd.Flags().Changed("instance"), args)
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return suites.Names(), cobra.ShellCompDirectiveNoFileComp
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&o.n, "n", 5, "number of examples to print")
	// Default 0: the suite seed adaptation, bench and the TUI draw their
	// instances from, so NAME#I here is the world a run on I adapts to.
	fs.Int64Var(&o.seed, "seed", 0, "suite `seed` (0 = the one runs and the TUI use)")
	fs.IntVar(&o.instance, "instance", 0, "instance index (or write NAME#I)")
	fs.StringVar(&o.level, "level", "", "difficulty: easy or challenge (default: the suite's)")
	fs.StringVar(&o.split, "split", "train", "split to print from: train, val or test")
	cmd.RegisterFlagCompletionFunc("level", completeWords(suites.Levels()))
	cmd.RegisterFlagCompletionFunc("split", completeWords([]string{"train", "val", "test"}))
	return cmd
}

func tasksShow(w io.Writer, o *showOptions, instanceSet bool, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("tasks show: unexpected arguments %q", args[1:])
	}
	if len(args) == 0 {
		return fmt.Errorf("tasks show: missing suite NAME (suites: %s)", strings.Join(suites.Names(), ", "))
	}
	name, inst := args[0], o.instance
	if base, num, ok := strings.Cut(name, "#"); ok {
		i, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("tasks show: bad instance in %q", name)
		}
		if instanceSet && inst != i {
			return fmt.Errorf("tasks show: %q conflicts with --instance %d", name, inst)
		}
		name, inst = base, i
	}
	if inst < 0 {
		return fmt.Errorf("tasks show: negative instance %d", inst)
	}
	fam, err := suites.ByName(name)
	if err != nil {
		return err
	}
	if inst >= fam.NumInstances() {
		return fmt.Errorf("tasks show: instance %d out of range [0,%d)", inst, fam.NumInstances())
	}
	if o.level != "" && !slices.Contains(suites.Levels(), o.level) {
		return fmt.Errorf("tasks show: unknown level %q (want %s)", o.level, strings.Join(suites.Levels(), " or "))
	}
	if o.n < 0 {
		return errors.New("tasks show: --n must be >= 0")
	}
	t := fam.Instance(o.seed, inst, o.level)
	var exs []tasks.Example
	switch o.split {
	case "train":
		exs = t.Splits.Train
	case "val":
		exs = t.Splits.Val
	case "test":
		exs = t.Splits.Test
	default:
		return fmt.Errorf("tasks show: unknown split %q (want train, val or test)", o.split)
	}

	fmt.Fprintf(w, "%s  [%s, %s, seed %d]  %s\n", t, t.Domain, t.Role, o.seed, fam.Description())
	fmt.Fprintln(w, "hidden parameters (what adaptation has to discover):")
	keys := make([]string, 0, len(t.Hidden))
	for k := range t.Hidden {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", k, t.Hidden[k])
	}
	for i, ex := range exs[:min(o.n, len(exs))] {
		prompt, answer := ex.DnDPrompt(), ex.DnDResponse()
		if ex.WordAnswer { // as the model reads it: the answer is the option word
			prompt, answer = train.Format(ex)
			answer = strings.TrimSpace(answer)
		}
		fmt.Fprintf(w, "\n--- %s example %d ---\n%s\n%s\n", o.split, i, prompt, answer)
	}
	return nil
}

// checkOptions are `workbench tasks check`'s flags.
type checkOptions struct {
	format   string
	json     bool
	maxBytes int64
}

// newTasksCheckCmd is `workbench tasks check FILE [--format F] [--json]`. It
// validates a benchmark file and prints a summary; on problems it fails
// with lines "FILE:LINE: message", printed raw for editors and scripts.
func newTasksCheckCmd(a *app) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:         "check FILE",
		Short:       "validate a benchmark file (DnD JSON, HF JSON/JSONL): FILE [--format F] [--json]",
		Annotations: map[string]string{annotRaw: "true"},
		RunE: func(_ *cobra.Command, files []string) error {
			_, stop := interruptibleWithin(0) // nothing to save: Ctrl-C ends it at once, with a line
			defer stop()
			return tasksCheck(a.stdout, &o, files)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "", "input format (default: autodetect): "+strings.Join(loaders.Formats(), ", "))
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	fs.Int64Var(&o.maxBytes, "max-bytes", loaders.MaxInputBytes, "refuse files larger than this many bytes")
	cmd.RegisterFlagCompletionFunc("format", completeWords(loaders.Formats()))
	return cmd
}

// tasksCheckSummary is the --json output.
type tasksCheckSummary struct {
	File    string         `json:"file"`
	Format  string         `json:"format"` // the layout read (detected, or --format), as the text line says
	Records int            `json:"records"`
	Options map[string]int `json:"options"` // option count → records ("0" = generation items)
	Answers map[string]int `json:"answers"` // gold letter → records
}

func tasksCheck(w io.Writer, o *checkOptions, files []string) error {
	if len(files) != 1 {
		return fmt.Errorf("usage: workbench tasks check FILE [--format F] [--json] (got %d files)", len(files))
	}
	file := files[0]
	if o.maxBytes <= 0 {
		return fmt.Errorf("tasks check: --max-bytes = %d: must be positive", o.maxBytes)
	}
	s := tasksCheckSummary{Options: map[string]int{}, Answers: map[string]int{}}
	used, err := loaders.ParseFileEach(file, o.format, o.maxBytes, s.add)
	if err != nil {
		var le *loaders.Error
		if errors.As(err, &le) {
			var lines []string
			for _, p := range le.Problems[:min(len(le.Problems), loaders.MaxListed)] {
				lines = append(lines, p.LineString())
			}
			if n := le.Total() - len(lines); n > 0 {
				lines = append(lines, fmt.Sprintf("%s: ... and %d more problems", file, n))
			}
			return errors.New(strings.Join(lines, "\n"))
		}
		return err
	}
	if o.json {
		s.File, s.Format = file, used
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(w, "%s: %d records, format %s\noptions: %s\nanswers: %s\n",
		file, s.Records, used, countsText(s.Options, true), countsText(s.Answers, false))
	return err
}

func (s *tasksCheckSummary) add(ex tasks.Example) {
	s.Records++
	s.Options[strconv.Itoa(len(ex.Options))]++
	if ex.Answer >= 0 && ex.Answer < len(ex.Options) {
		s.Answers[tasks.Letter(ex.Answer)]++
	}
}

// countsText renders "2×10 4×3" (numeric keys in numeric order) or "A=5 B=7".
func countsText(m map[string]int, numeric bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if numeric {
			a, _ := strconv.Atoi(keys[i])
			b, _ := strconv.Atoi(keys[j])
			return a < b
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		if numeric {
			parts[i] = fmt.Sprintf("%s options: %d", k, m[k])
		} else {
			parts[i] = fmt.Sprintf("%s=%d", k, m[k])
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
