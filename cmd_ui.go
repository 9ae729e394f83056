package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/loaders"
)

func init() {
	register("ui", "the terminal UI (the default with no command)", cmdUI)
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdUI is `workbench [ui] [--workdir DIR] [--theme NAME] [--tasks FILE]...`.
func cmdUI(args []string) error {
	fs := newFlags("ui")
	var cf commonFlags
	cf.register(fs)
	theme := fs.String("theme", "", "theme: dark, light, high-contrast, monochrome, or a TOML file (default: config)")
	debug := fs.String("debug", "", "write debug logs to this file (never to the screen)")
	noMouse := fs.Bool("no-mouse", false, "disable mouse wheel and click-to-focus")
	var files stringList
	fs.Var(&files, "tasks", "a benchmark `file` to offer in the task picker (repeatable; check it first with: workbench tasks check FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// Check for a terminal before anything trains.
	if !isatty.IsTerminal(os.Stdout.Fd()) && !isatty.IsCygwinTerminal(os.Stdout.Fd()) {
		return errNoTerminal
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	var userTasks []*tasks.Task
	for _, f := range files {
		t, err := taskFromFile(f, "")
		if err != nil {
			return err
		}
		userTasks = append(userTasks, t)
	}
	wb, err := cf.open()
	if err != nil {
		return err
	}
	defer wb.Close()
	wb.AddUserTasks(userTasks...)
	if *theme == "" {
		*theme = cfg.TUI.Theme
	}
	tuiDebugLog = *debug
	return runTUI(wb, *theme, cfg.TUI.Mouse && !*noMouse)
}

// taskFromFile loads a benchmark file as one task: a fixed shuffle, then
// support (train) and validation splits small enough to adapt on, and every
// remaining item held out for testing.
func taskFromFile(path, format string) (*tasks.Task, error) {
	exs, err := loaders.Load(path, format)
	if err != nil {
		return nil, err
	}
	var mc []tasks.Example
	for _, e := range exs {
		if len(e.Options) >= 2 && e.Answer >= 0 {
			mc = append(mc, e)
		}
	}
	if len(mc) < 8 {
		return nil, fmt.Errorf("%s: %d multiple-choice items; need at least 8 to split into support, validation and test", path, len(mc))
	}
	rng := rand.New(rand.NewPCG(0, 0x5eed))
	rng.Shuffle(len(mc), func(i, j int) { mc[i], mc[j] = mc[j], mc[i] })
	nTrain := min(64, len(mc)*3/10)
	nVal := min(32, len(mc)*15/100)
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return &tasks.Task{Name: name, Suite: path, Domain: "user", Role: tasks.OutOfDomain,
		Splits: tasks.Splits{Train: mc[:nTrain], Val: mc[nTrain : nTrain+nVal], Test: mc[nTrain+nVal:]}}, nil
}
