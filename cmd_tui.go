package main

import (
	"context"
	"errors"
	"os"
	"os/signal"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui"
	"github.com/mattn/go-isatty"
)

// tuiDebugLog is set from --debug by the command table: the TUI then logs to
// this file (never to the screen).
var tuiDebugLog string

// errNoTerminal explains what to use when stdout is not a terminal.
var errNoTerminal = errors.New("workbench tui needs an interactive terminal; " +
	"for scripts and pipes use the headless commands: `workbench run`, `workbench bench`, `workbench tasks`")

// runTUI runs the interactive TUI on this terminal (alt screen). themeName is
// a built-in theme or a TOML path ("" = dark); mouse enables wheel and
// click-to-focus.
func runTUI(eng api.Engine, themeName string, mouse bool) error {
	if !isatty.IsTerminal(os.Stdout.Fd()) && !isatty.IsCygwinTerminal(os.Stdout.Fd()) {
		return errNoTerminal
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return tui.Run(ctx, eng, tui.Options{Theme: themeName, Mouse: mouse, DebugLog: tuiDebugLog})
}
