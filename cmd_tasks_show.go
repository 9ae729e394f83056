package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// cmdTasksShow implements
//
//	workbench tasks show NAME [--n N] [--seed S] [--instance I] [--level easy|challenge] [--split train|val|test]
//
// It prints one instance of a built-in suite: its hidden parameters and N
// examples in DnD format with the gold response, so a student can see what
// adaptation has to discover. NAME may carry the instance, as in "math-mc#17".
func cmdTasksShow(args []string) error { return tasksShow(os.Stdout, args) }

// main.go's table is filled by the cmd_*.go files, so registering here keeps
// main.go untouched.
func init() {
	register("tasks show", "print a built-in suite instance: hidden parameters + examples", cmdTasksShow)
}

func tasksShow(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("tasks show", flag.ContinueOnError)
	fs.SetOutput(w)
	n := fs.Int("n", 5, "number of examples to print")
	// Default 0: the suite seed adaptation, bench and the TUI draw their
	// instances from, so NAME#I here is the world a run on I adapts to.
	seed := fs.Int64("seed", 0, "suite `seed` (0 = the one runs and the TUI use)")
	inst := fs.Int("instance", 0, "instance index (or write NAME#I)")
	level := fs.String("level", "", "difficulty: easy or challenge (default: the suite's)")
	split := fs.String("split", "train", "split to print from: train, val or test")
	var cf commonFlags
	cf.registerPlaces(fs) // accepted like everywhere; built-in suites need neither
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: workbench tasks show NAME [flags]\nsuites: %s\n", strings.Join(suites.Names(), ", "))
		fs.PrintDefaults()
	}
	// NAME comes first so that flags may follow it; flags before NAME work too.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tasks show: unexpected arguments %q", fs.Args())
	}
	if name == "" {
		fs.Usage()
		return errors.New("tasks show: missing suite NAME")
	}
	if base, num, ok := strings.Cut(name, "#"); ok {
		i, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("tasks show: bad instance in %q", name)
		}
		instSet := false
		fs.Visit(func(f *flag.Flag) { instSet = instSet || f.Name == "instance" })
		if instSet && *inst != i {
			return fmt.Errorf("tasks show: %q conflicts with --instance %d", name, *inst)
		}
		name, *inst = base, i
	}
	if *inst < 0 {
		return fmt.Errorf("tasks show: negative instance %d", *inst)
	}
	fam, err := suites.ByName(name)
	if err != nil {
		return err
	}
	if *inst >= fam.NumInstances() {
		return fmt.Errorf("tasks show: instance %d out of range [0,%d)", *inst, fam.NumInstances())
	}
	if *level != "" && !slices.Contains(suites.Levels(), *level) {
		return fmt.Errorf("tasks show: unknown level %q (want %s)", *level, strings.Join(suites.Levels(), " or "))
	}
	if *n < 0 {
		return errors.New("tasks show: --n must be >= 0")
	}
	t := fam.Instance(*seed, *inst, *level)
	var exs []tasks.Example
	switch *split {
	case "train":
		exs = t.Splits.Train
	case "val":
		exs = t.Splits.Val
	case "test":
		exs = t.Splits.Test
	default:
		return fmt.Errorf("tasks show: unknown split %q (want train, val or test)", *split)
	}

	fmt.Fprintf(w, "%s  [%s, %s, seed %d]  %s\n", t, t.Domain, t.Role, *seed, fam.Description())
	fmt.Fprintln(w, "hidden parameters (what adaptation has to discover):")
	keys := make([]string, 0, len(t.Hidden))
	for k := range t.Hidden {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", k, t.Hidden[k])
	}
	for i, ex := range exs[:min(*n, len(exs))] {
		prompt, answer := ex.DnDPrompt(), ex.DnDResponse()
		if ex.WordAnswer { // as the model reads it: the answer is the option word
			prompt, answer = train.Format(ex)
			answer = strings.TrimSpace(answer)
		}
		fmt.Fprintf(w, "\n--- %s example %d ---\n%s\n%s\n", *split, i, prompt, answer)
	}
	return nil
}
