package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/pipeline"
)

// commonFlags are the flags every engine-using command accepts.
type commonFlags struct {
	config, workdir, backend string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	c.registerPlaces(fs)
	fs.StringVar(&c.backend, "backend", "", "GoMLX `backend`, e.g. go:parallelism=-1 (default: config, then $GOMLX_BACKEND)")
}

// registerPlaces registers --config and --workdir alone: every command
// takes them (README), even those that need no engine, so one command
// line works for all of them.
func (c *commonFlags) registerPlaces(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config `file` (default ./workbench.toml, then the user config dir)")
	fs.StringVar(&c.workdir, "workdir", "", "work `directory` for models, artifacts and logs (default: the user cache dir)")
}

// load reads the configuration with the flags applied on top.
func (c *commonFlags) load() (*config.Config, error) {
	cfg, err := config.Load(defaultConfig, c.config)
	if err != nil {
		return nil, err
	}
	if c.backend != "" {
		cfg.Engine.Backend = c.backend
	}
	return cfg, nil
}

// open loads the config and opens the Workbench.
func (c *commonFlags) open() (*pipeline.Workbench, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return pipeline.Open(cfg, c.workdir)
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

func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// newFlags makes a FlagSet whose errors come back to the caller.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("workbench "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// parseInterleaved parses flags that may come after positional arguments
// ("tasks check FILE --json") and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError restates a core/api validation error in flag names:
// "run: --lr = NaN: not a number".
func flagError(cmd string, err error) error {
	return api.Rename(err, func(field string) string {
		return cmd + ": --" + strings.ReplaceAll(field, "_", "-")
	})
}
