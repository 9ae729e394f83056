package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/charmbracelet/x/term"

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

// interruptible returns a context canceled by Ctrl-C or SIGTERM, so long runs
// stop cleanly (stages keep their last good checkpoint) instead of dying.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
