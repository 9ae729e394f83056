package main

import (
	"fmt"
	"os"
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
		t, err := loaders.LoadTask(f, "")
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
