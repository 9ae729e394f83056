package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/pipeline"
)

// places are the flags that say where the workbench reads and writes:
// --config and --workdir, persistent flags of the root (every command takes
// them, README), and --backend, which only the engine-using commands take.
type places struct {
	config, workdir, backend string
}

// registerBackend adds --backend with the config's meaning: it overrides
// [engine].backend.
func (p *places) registerBackend(fs *pflag.FlagSet) {
	fs.StringVar(&p.backend, "backend", "", "GoMLX `backend`, e.g. go:parallelism=-1 (default: config, then $GOMLX_BACKEND)")
}

// load reads the configuration with the flags applied on top.
func (a *app) load() (*config.Config, error) {
	cfg, err := config.Load(a.defaultConfig, a.config)
	if err != nil {
		return nil, err
	}
	if a.backend != "" {
		cfg.Engine.Backend = a.backend
	}
	return cfg, nil
}

// open loads the config and opens the Workbench.
func (a *app) open() (*pipeline.Workbench, error) {
	cfg, err := a.load()
	if err != nil {
		return nil, err
	}
	return pipeline.Open(cfg, a.workdir)
}

// completeWords completes a flag or argument from a fixed list of words
// (suites, methods, protocols), never from file names.
func completeWords(words []string) cobra.CompletionFunc {
	return cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp)
}

// noArgs refuses positional arguments with the command's own wording.
func noArgs(format string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf(format, args[0])
		}
		return nil
	}
}

// interruptGrace bounds how long a command may take to wind down after
// Ctrl-C or SIGTERM: a job busy inside one long compiled step cannot look at
// its context, and a user who pressed Ctrl-C must not wait on it.
const interruptGrace = 1500 * time.Millisecond

// exitProcess is os.Exit, replaced in tests.
var exitProcess = os.Exit

// interruptible returns a context canceled by Ctrl-C or SIGTERM, so long runs
// stop cleanly (stages keep their last good checkpoint) instead of dying.
// If the process is still running interruptGrace after the signal, or on a
// second signal, it exits with status 130 and one line.
func interruptible() (context.Context, context.CancelFunc) {
	return interruptibleWithin(interruptGrace)
}

// interruptibleWithin is interruptible with another grace period, for a
// command whose wind-down is itself bounded and worth waiting for (serve
// saying goodbye to its seats).
func interruptibleWithin(grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-stopped:
			return
		}
		cancel()
		// Stays armed after stop: the deferred Close of a Workbench runs
		// after stop and is what may hang.
		select {
		case <-sigs:
		case <-time.After(grace):
		}
		fmt.Fprintln(os.Stderr, "workbench: interrupted")
		exitProcess(130)
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(stopped)
			cancel()
		})
	}
}

// isTerminal reports whether w is a terminal (tests pass buffers: never).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// flagError restates a core/api validation error in flag names:
// "run: --lr = NaN: not a number".
func flagError(cmd string, err error) error {
	return api.Rename(err, func(field string) string {
		return cmd + ": --" + strings.ReplaceAll(field, "_", "-")
	})
}

// singleDashLongFlags rewrites "-name" to "--name" where name is a long
// flag of the command the line runs: the workbench's flags were parsed by
// Go's flag package, which accepts one dash, and scripts written for it
// must keep working. A flag's value ("--prompt -x") and everything after
// "--" are left alone.
func singleDashLongFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	cmd.InitDefaultHelpFlag()
	lookup := func(name string) *pflag.Flag {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	shorthand := func(name string) *pflag.Flag {
		if f := cmd.Flags().ShorthandLookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().ShorthandLookup(name)
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		body, isFlag := strings.CutPrefix(arg, "--")
		if !isFlag && len(arg) > 1 && arg[0] == '-' {
			// "-n 3" is the long flag n unless n is some flag's shorthand (-h).
			name, _, _ := strings.Cut(arg[1:], "=")
			if lookup(name) != nil && (len(name) > 1 || shorthand(name) == nil) {
				body, isFlag, arg = arg[1:], true, "-"+arg
			}
		}
		out = append(out, arg)
		if !isFlag {
			continue
		}
		// A flag that takes a value and has no "=" consumes the next word.
		name, _, hasValue := strings.Cut(body, "=")
		if f := lookup(name); f != nil && !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}
