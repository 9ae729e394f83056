// Command workbench lets you watch language models learn to adapt: it
// implements DeGAML-LLM (decoupled generalization and adaptation) and its
// baselines on GoMLX, behind a terminal UI, a headless CLI and an SSH server.
//
// With no arguments in a terminal it opens the TUI; `workbench help` lists
// the headless commands.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

//go:embed workbench.toml
var defaultConfig []byte

// command is one subcommand. Each lives in its own cmd_*.go file.
type command struct {
	name    string // may hold a space: "tasks show"
	summary string
	run     func(args []string) error
	// raw prints errors as they are (e.g. FILE:LINE: message lines that
	// editors and scripts parse) instead of prefixing "workbench: ".
	raw bool
}

// commands is filled by the cmd_*.go files' init functions, so that adding a
// command never touches this file.
var commands []command

func register(name, summary string, run func(args []string) error) {
	commands = append(commands, command{name: name, summary: summary, run: run})
}

func registerRaw(name, summary string, run func(args []string) error) {
	commands = append(commands, command{name: name, summary: summary, run: run, raw: true})
}

// lookup finds the longest command name that prefixes args ("tasks show" before "tasks").
func lookup(args []string) (*command, []string) {
	var best *command
	bestLen := 0
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(words) > len(args) || len(words) <= bestLen {
			continue
		}
		match := true
		for j, w := range words {
			if args[j] != w {
				match = false
				break
			}
		}
		if match {
			best, bestLen = &commands[i], len(words)
		}
	}
	if best == nil {
		return nil, args
	}
	return best, args[bestLen:]
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: workbench [command] [flags]   (no command: the terminal UI)")
	fmt.Fprintln(os.Stderr, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `workbench COMMAND -h` for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes one command line and returns the exit status. Errors are one
// clear line on stderr; a panic (a bug, never bad input) is reported the same
// way, with the stack only when WORKBENCH_DEBUG is set.
func run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "workbench: internal error: %v\n", r)
			if os.Getenv("WORKBENCH_DEBUG") != "" {
				os.Stderr.Write(debug.Stack())
			} else {
				fmt.Fprintln(os.Stderr, "workbench: set WORKBENCH_DEBUG=1 for the stack trace, and please report it")
			}
			code = 2
		}
	}()
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		usage()
		return 0
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(os.Stderr, "workbench: unknown command %q\n", args[0])
			usage()
			return 2
		}
		cmd, rest = lookup([]string{"ui"})
		if cmd == nil {
			usage()
			return 2
		}
		rest = args
	}
	if err := cmd.run(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if cmd.raw {
			fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		} else {
			fmt.Fprintf(os.Stderr, "workbench: %s\n", strings.TrimSpace(err.Error()))
		}
		return 1
	}
	return 0
}
