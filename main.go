// Command workbench lets you watch language models learn to adapt: it
// implements DeGAML-LLM (decoupled generalization and adaptation) and its
// baselines on GoMLX, behind a terminal UI, a headless CLI and an SSH server.
//
// With no arguments in a terminal it opens the TUI; `workbench help` lists
// the headless commands. The commands live in internal/cli; this file only
// holds the default configuration, embedded so the binary needs no files.
package main

import (
	_ "embed"
	"os"

	"github.com/degaml/workbench/internal/cli"
)

//go:embed workbench.toml
var defaultConfig []byte

func main() {
	os.Exit(cli.Execute(os.Args[1:], defaultConfig))
}
