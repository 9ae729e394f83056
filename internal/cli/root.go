// Package cli is the workbench's command line: one cobra command per
// subcommand, each a thin layer that parses its flags, calls the package
// that owns the work (core/pipeline, core/bench, tasks/loaders, models) and
// prints the outcome. With no command it opens the terminal UI.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/loaders"
	"github.com/degaml/workbench/tui"
)

// app is what every command shares: the embedded default config, the
// process's streams (tests replace them) and the persistent flags.
type app struct {
	defaultConfig []byte
	stdin         io.Reader
	stdout        io.Writer
	stderr        io.Writer
	places
}

// Annotation keys of a cobra.Command.
const (
	// annotRaw marks a command whose errors are printed as they are
	// (FILE:LINE: message lines that editors and scripts parse) instead of
	// prefixed with "workbench: ".
	annotRaw = "raw"
)

// Execute runs one command line (without the program name) and returns the
// process's exit status: 0 on success or help, 1 on an error, 2 for an
// unknown command or an internal error. Errors are one clear line on
// stderr; a panic (a bug, never bad input) is reported the same way, with
// the stack only when WORKBENCH_DEBUG is set.
func Execute(args []string, defaultConfig []byte) int {
	return execute(&app{defaultConfig: defaultConfig, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, args)
}

func execute(a *app, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "workbench: internal error: %v\n", r)
			if os.Getenv("WORKBENCH_DEBUG") != "" {
				a.stderr.Write(debug.Stack())
			} else {
				fmt.Fprintln(a.stderr, "workbench: set WORKBENCH_DEBUG=1 for the stack trace, and please report it")
			}
			code = 2
		}
	}()
	root := newRoot(a)
	// A first word that is no command is an unknown command whatever
	// follows, not the UI's flag error.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if c, _, err := root.Find(args); err == nil && c == root && !isCompletionRequest(args[0]) {
			return a.report(root, &unknownCommandError{name: args[0], suggestions: root.SuggestionsFor(args[0])})
		}
	}
	root.SetArgs(singleDashLongFlags(root, args))
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	return a.report(cmd, err)
}

// report prints a command's error and returns the exit status.
func (a *app) report(cmd *cobra.Command, err error) int {
	var unknown *unknownCommandError
	if errors.As(err, &unknown) {
		fmt.Fprintf(a.stderr, "workbench: %s; `workbench help` lists the commands\n", unknown)
		return 2
	}
	msg := strings.TrimSpace(err.Error())
	if cmd != nil && cmd.Annotations[annotRaw] != "" {
		fmt.Fprintln(a.stderr, msg)
	} else {
		fmt.Fprintf(a.stderr, "workbench: %s\n", msg)
	}
	return 1
}

// unknownCommandError is a first word that names no command.
type unknownCommandError struct {
	name        string
	suggestions []string
}

func (e *unknownCommandError) Error() string {
	s := fmt.Sprintf("unknown command %q", e.name)
	if len(e.suggestions) > 0 {
		s += " (did you mean " + strings.Join(e.suggestions, " or ") + "?)"
	}
	return s
}

// newRoot builds the command tree. The root itself is the terminal UI, as
// `workbench ui` is.
func newRoot(a *app) *cobra.Command {
	var ui uiOptions
	var showVersion bool
	root := &cobra.Command{
		Use:   "workbench",
		Short: "watch language models learn to adapt (DeGAML-LLM and its baselines)",
		Long: "DeGAML Workbench lets you watch language models learn to adapt: DeGAML-LLM (decoupled\n" +
			"generalization and adaptation) and its baselines on GoMLX, behind a terminal UI, a headless CLI\n" +
			"and an SSH server. With no command in a terminal it opens the terminal UI.",
		// Flags come after the command; a first word that is no command is
		// an error, not the UI's positional argument.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &unknownCommandError{name: args[0], suggestions: cmd.SuggestionsFor(args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				_, err := fmt.Fprintln(a.stdout, versionLine(debug.ReadBuildInfo()))
				return err
			}
			return a.runUI(&ui)
		},
		SilenceErrors: true, // report prints them, one line
		SilenceUsage:  true,
		// "rn" suggests run; cobra sets this only on its own error path.
		SuggestionsMinimumDistance: 2,
	}
	root.PersistentFlags().StringVar(&a.config, "config", "", "config `file` (default ./workbench.toml, then the user config dir)")
	root.PersistentFlags().StringVar(&a.workdir, "workdir", "", "work `directory` for models, artifacts and logs (default: the user cache dir)")
	ui.register(root.Flags(), &a.places)
	root.Flags().BoolVar(&showVersion, "version", false, "print the version (module version, commit, uncommitted changes) and exit")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(flagErrorFunc)

	root.AddCommand(
		newUICmd(a),
		newRunCmd(a),
		newBenchCmd(a),
		newTasksCmd(a),
		newModelsCmd(a),
		newGenerateCmd(a),
		newTokenizeCmd(a),
		newServeCmd(a),
	)
	// Help and usage go to stderr, as they always have; cobra's own output
	// (completion scripts, the shell's __complete queries) stays on stdout.
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.SetOut(a.stderr)
		defer c.SetOut(nil)
		if c == root {
			writeRootHelp(a.stderr, root)
			return
		}
		defaultHelp(c, args)
	})
	root.SetUsageTemplate(usageTemplate)
	// Added now rather than when the command line runs, so that Find knows them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() { // cobra's own, in the house's lower case
		case "help":
			c.Short = "help about any command: workbench help COMMAND"
			// cobra's help finds the root for a word that is no command and
			// shows its help with status 0; name the typo instead.
			cobraHelp := c.Run
			c.Run = nil
			c.RunE = func(c *cobra.Command, args []string) error {
				if found, rest, err := root.Find(args); err == nil && found == root && len(rest) > 0 {
					return &unknownCommandError{name: rest[0], suggestions: root.SuggestionsFor(rest[0])}
				}
				cobraHelp(c, args)
				return nil
			}
		case "completion":
			c.Short = "print the shell completion script: bash, zsh, fish or powershell"
			// cobra's completion command does not run itself, so an unknown
			// shell printed its help and exited 0: a script sourcing
			// `workbench completion bsh` got nothing and no error.
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(c *cobra.Command, args []string) error {
				var shells []string
				for _, sub := range c.Commands() {
					shells = append(shells, sub.Name())
				}
				if len(args) == 0 {
					return fmt.Errorf("completion: name the shell: workbench completion %s", strings.Join(shells, "|"))
				}
				return fmt.Errorf("completion: unknown shell %q (have %s)", args[0], strings.Join(shells, ", "))
			}
		}
	}
	return root
}

// isCompletionRequest reports whether name is the hidden command a shell's
// completion script calls, which cobra adds only when it runs.
func isCompletionRequest(name string) bool {
	return name == cobra.ShellCompRequestCmd || name == cobra.ShellCompNoDescRequestCmd
}

// flagErrorFunc names the command and where its flags are listed:
// "run: unknown flag: --tsak (see `workbench run -h`)".
func flagErrorFunc(c *cobra.Command, err error) error {
	name := strings.TrimPrefix(c.CommandPath(), "workbench ")
	// pflag quotes strconv's whole error ("strconv.ParseInt: parsing "abc":
	// invalid syntax"); the flag and its value are already named.
	err = errors.New(strconvNoise.ReplaceAllString(err.Error(), ""))
	if !c.HasParent() {
		return fmt.Errorf("%w (see `workbench -h`)", err)
	}
	return fmt.Errorf("%s: %w (see `%s -h`)", name, err, c.CommandPath())
}

var strconvNoise = regexp.MustCompile(`strconv\.\w+: parsing "[^"]*": `)

// writeRootHelp lists every command, subcommands included, as the old
// hand-written usage did: `tasks show` and `bench engine` stay findable.
func writeRootHelp(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "%s\n\nusage: workbench [command] [flags]   (no command: the terminal UI)\n\ncommands:\n", root.Long)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() && sub.Name() != "help" {
				continue
			}
			name := strings.TrimPrefix(sub.CommandPath(), "workbench ")
			fmt.Fprintf(w, "  %-19s %s\n", name, sub.Short)
			if sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(root)
	fmt.Fprintf(w, "\nflags of every command:\n%s", root.PersistentFlags().FlagUsages())
	fmt.Fprintf(w, "\nflags of `workbench` alone (the terminal UI; `workbench ui` takes them too):\n%s", root.LocalNonPersistentFlags().FlagUsages())
	fmt.Fprintln(w, "\nRun `workbench COMMAND -h` for a command's flags.")
}

// usageTemplate is cobra's usage, lowercased to match the rest of the
// command line's messages, with the global flags named as such.
const usageTemplate = `usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

flags of every command:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Run "{{.CommandPath}} [command] -h" for a command's flags.{{end}}
`

// versionLine renders `workbench --version` from the binary's build info:
// the module version, the commit it was built from and whether the tree had
// uncommitted changes (go build stamps these from git).
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "workbench (no build information in this binary)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, modified, when string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			when = s.Value
		}
	}
	var parts []string
	if rev != "" {
		c := "commit " + rev
		if when != "" {
			c += " (" + when + ")"
		}
		parts = append(parts, c)
	} else {
		parts = append(parts, "commit unknown (built outside a git checkout, or with -buildvcs=false)")
	}
	if modified == "true" {
		parts = append(parts, "with uncommitted changes")
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	return "workbench " + version + ", " + strings.Join(parts, ", ")
}

// uiOptions are the terminal UI's flags, on the root and on `workbench ui`.
type uiOptions struct {
	theme, debugLog string
	noMouse         bool
	taskFiles       []string
}

func (o *uiOptions) register(fs *pflag.FlagSet, p *places) {
	p.registerBackend(fs)
	fs.StringVar(&o.theme, "theme", "", "theme: dark, light, high-contrast, monochrome, or a TOML file (default: config)")
	fs.StringVar(&o.debugLog, "debug", "", "write debug logs to this file (never to the screen)")
	fs.BoolVar(&o.noMouse, "no-mouse", false, "disable mouse wheel and click-to-focus")
	fs.StringArrayVar(&o.taskFiles, "tasks", nil, "a benchmark `file` to offer in the task picker (repeatable; check it first with: workbench tasks check FILE)")
}

// newUICmd is `workbench [ui] [--workdir DIR] [--theme NAME] [--tasks FILE]...`.
func newUICmd(a *app) *cobra.Command {
	var o uiOptions
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "the terminal UI (the default with no command)",
		Args:  noArgs("unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return a.runUI(&o) },
	}
	o.register(cmd.Flags(), &a.places)
	return cmd
}

// errNoTerminal explains what to use when stdout is not a terminal.
var errNoTerminal = errors.New("the terminal UI needs an interactive terminal; " +
	"for scripts and pipes use the headless commands: `workbench run`, `workbench bench`, `workbench tasks`")

func (a *app) runUI(o *uiOptions) error {
	// Check for a terminal before anything trains.
	if !isatty.IsTerminal(os.Stdout.Fd()) && !isatty.IsCygwinTerminal(os.Stdout.Fd()) {
		return errNoTerminal
	}
	cfg, err := a.load()
	if err != nil {
		return err
	}
	var userTasks []*tasks.Task
	for _, f := range o.taskFiles {
		t, err := loaders.LoadTask(f, "")
		if err != nil {
			return err
		}
		userTasks = append(userTasks, t)
	}
	wb, err := a.open()
	if err != nil {
		return err
	}
	defer wb.Close()
	if err := wb.AddUserTasks(userTasks...); err != nil {
		return err
	}
	theme := o.theme
	if theme == "" {
		theme = cfg.TUI.Theme
	}
	return runTUI(wb, tui.Options{Theme: theme, Mouse: cfg.TUI.Mouse && !o.noMouse, DebugLog: o.debugLog})
}

// runTUI runs the interactive TUI on this terminal (alt screen).
func runTUI(eng api.Engine, opts tui.Options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return tui.Run(ctx, eng, opts)
}
