package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/log"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/internal/applog"
	"github.com/degaml/workbench/themes"
	"github.com/degaml/workbench/tui/common"
	"github.com/muesli/termenv"
)

// Options configure a local TUI run.
type Options struct {
	Theme    string // built-in theme name or TOML path; "" = default
	Mouse    bool   // wheel + click-to-focus
	DebugLog string // file for debug logs (--debug); "" = no logging at all
	// Input and Output default to the process's stdin/stdout.
	Input  io.Reader
	Output io.Writer
}

// NewCommon builds the shared state for one session on renderer r. Mono
// themes also force the ASCII profile, so NO_COLOR means no escape codes
// for colour at all.
func NewCommon(ctx context.Context, eng api.Engine, r *lipgloss.Renderer, th themes.Theme, cfg common.Config) *Common {
	if th.Mono {
		r.SetColorProfile(termenv.Ascii)
	}
	return common.New(ctx, eng, r, th, cfg)
}

// pinGlobalRenderer gives lipgloss's global renderer our renderer's colour
// profile and background, so that it never queries the terminal itself: a
// style left on the global renderer (a bubbles default) would query the
// background the first time it draws an adaptive colour, while the program
// reads stdin, and the query and Bubble Tea's reader would race for the
// terminal's answer and the user's keys.
func pinGlobalRenderer(r *lipgloss.Renderer) {
	lipgloss.SetColorProfile(r.ColorProfile())
	lipgloss.SetHasDarkBackground(r.HasDarkBackground())
}

// Run runs the TUI on the local terminal (alt screen) until the user quits
// or ctx ends.
func Run(ctx context.Context, eng api.Engine, opts Options) error {
	if eng == nil {
		return errors.New("tui: no engine")
	}
	th, err := themes.Load(opts.Theme)
	if err != nil {
		return err
	}
	in, out := opts.Input, opts.Output
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}
	// Logs never reach the screen: to a file with --debug, else nowhere.
	// The standard logger is only redirected, in case a library writes to
	// it; the workbench's own lines go through internal/logging.
	prevOut := stdlog.Writer()
	defer stdlog.SetOutput(prevOut)
	stdlog.SetOutput(io.Discard)
	var logger *log.Logger
	if opts.DebugLog != "" {
		f, err := os.OpenFile(opts.DebugLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("debug log: %w", err)
		}
		defer f.Close()
		logger = applog.New(f, "tui")
		logger.SetLevel(log.DebugLevel)
		stdlog.SetOutput(f)
	}
	r := lipgloss.NewRenderer(out)
	c := NewCommon(ctx, eng, r, th, common.Config{Mouse: opts.Mouse})
	pinGlobalRenderer(r)
	c.Log = logger
	m := New(c)
	defer m.Close()
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}
	if opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	_, err = tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // cancelled from outside: a normal exit
	}
	return err
}
