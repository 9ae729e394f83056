package cli

import (
	"bytes"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, errOut := execLine(t, args...)
		if code != 0 || out != "" {
			t.Errorf("%v: status %d, stdout %q; help goes to stderr with status 0", args, code, out)
		}
		// Subcommands are listed with their parents, as the hand-written usage did.
		for _, name := range []string{"ui", "run", "bench", "bench engine", "bench merge", "tasks", "tasks show", "tasks check",
			"models", "models make-random", "models measure", "generate", "tokenize", "serve", "completion"} {
			if !strings.Contains(errOut, "\n  "+name+" ") {
				t.Errorf("%v: %q missing from\n%s", args, name, errOut)
			}
		}
	}
	code, _, errOut := execLine(t, "bench", "-h")
	if code != 0 || !strings.Contains(errOut, "--shard") || !strings.Contains(errOut, "--config") || !strings.Contains(errOut, `(default "paper")`) {
		t.Errorf("bench -h: status %d\n%s", code, errOut)
	}
	code, _, errOut = execLine(t, "help", "tasks", "check")
	if code != 0 || !strings.Contains(errOut, "workbench tasks check FILE") || !strings.Contains(errOut, "--max-bytes") {
		t.Errorf("help tasks check: status %d\n%s", code, errOut)
	}
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	code, out, errOut := execLine(t, "taks", "--json")
	if code != 2 || out != "" || errOut != "workbench: unknown command \"taks\" (did you mean tasks?); `workbench help` lists the commands\n" {
		t.Errorf("unknown command: status %d, stderr %q", code, errOut)
	}
	// `help TYPO` names the typo as a command typo does, instead of the
	// root's help with status 0.
	code, out, errOut = execLine(t, "help", "rn")
	if code != 2 || out != "" || !strings.HasPrefix(errOut, "workbench: unknown command \"rn\" (did you mean run") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("help rn: status %d, stderr %q", code, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--tsak", "x"}, "workbench: run: unknown flag: --tsak (see `workbench run -h`)\n"},
		{[]string{"run", "--seed", "abc"}, "workbench: run: invalid argument \"abc\" for \"--seed\" flag: invalid syntax (see `workbench run -h`)\n"},
		{[]string{"--bogus"}, "workbench: unknown flag: --bogus (see `workbench -h`)\n"},
		{[]string{"bench", "extra"}, "workbench: bench: unexpected argument \"extra\"\n"},
		// tasks check prints its errors raw: FILE:LINE lines for editors.
		{[]string{"tasks", "check", "--bogus", "f.json"}, "tasks check: unknown flag: --bogus (see `workbench tasks check -h`)\n"},
	} {
		code, _, errOut := execLine(t, c.args...)
		if code != 1 || errOut != c.want {
			t.Errorf("%v: status %d, stderr %q, want 1 and %q", c.args, code, errOut, c.want)
		}
	}
}

// Go's flag package accepted -name for --name; scripts written for it keep
// working, while values and what follows "--" stay as they are.
func TestSingleDashLongFlags(t *testing.T) {
	root := newRoot(newTestApp(nil, io.Discard, io.Discard))
	for _, c := range []struct{ in, want []string }{
		{[]string{"run", "-task", "logic", "-seed=3", "-json"}, []string{"run", "--task", "logic", "--seed=3", "--json"}},
		{[]string{"generate", "-prompt", "-json", "-model", "nano"}, []string{"generate", "--prompt", "-json", "--model", "nano"}},
		{[]string{"run", "--lr", "-1", "-h"}, []string{"run", "--lr", "-1", "-h"}},
		{[]string{"tasks", "check", "-json", "--", "-weird.json"}, []string{"tasks", "check", "--json", "--", "-weird.json"}},
		{[]string{"run", "-nosuchflag"}, []string{"run", "-nosuchflag"}},
		{[]string{"-workdir", "/tmp/w", "tasks"}, []string{"--workdir", "/tmp/w", "tasks"}},
	} {
		if got := singleDashLongFlags(root, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
	}
	var out bytes.Buffer
	if err := runCmd(&out, "tasks", "show", "-n", "1", "logic#2", "-split", "test"); err != nil || !strings.Contains(out.String(), "--- test example 0 ---") {
		t.Errorf("tasks show with single-dash flags: %v\n%s", err, out.String())
	}
}

func TestVersionLine(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "github.com/degaml/workbench", Version: "v0.0.0-20261129152807-9feb0b38edb9+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "9feb0b38edb9"}, {Key: "vcs.time", Value: "2026-11-29T15:28:07Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "workbench v0.0.0-20261129152807-9feb0b38edb9+dirty, commit 9feb0b38edb9 (2026-11-29T15:28:07Z), with uncommitted changes, go1.27.3"
	if got := versionLine(info, true); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	info.Settings[2].Value = "false"
	if got := versionLine(info, true); strings.Contains(got, "uncommitted") {
		t.Errorf("clean tree: %q", got)
	}
	info.Settings, info.Main.Version = nil, ""
	if got := versionLine(info, true); got != "workbench (devel), commit unknown (built outside a git checkout, or with -buildvcs=false), go1.27.3" {
		t.Errorf("no vcs: %q", got)
	}
	if got := versionLine(nil, false); !strings.Contains(got, "no build information") {
		t.Errorf("no build info: %q", got)
	}
	// The flag prints it on stdout, before anything needs a terminal.
	code, out, _ := execLine(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "workbench ") || strings.Count(out, "\n") != 1 {
		t.Errorf("--version: status %d, stdout %q", code, out)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := execLine(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "workbench") || len(out) < 500 || errOut != "" {
			t.Errorf("completion %s: status %d, %d bytes on stdout, stderr %q", shell, code, len(out), errOut)
		}
	}
	// A misspelt or missing shell is an error, not help and status 0
	// (`source <(workbench completion bsh)` would silently do nothing).
	for _, args := range [][]string{{"completion", "bsh"}, {"completion"}} {
		code, out, errOut := execLine(t, args...)
		if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "bash") {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want one line naming the shells", args, code, out, errOut)
		}
	}
	// The shell asks the binary for candidates; the answer is on stdout.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tasks", "s"}, "show"},
		{[]string{"tasks", "show", ""}, "math-mc"},
		{[]string{"run", "--method", ""}, "degaml"},
		{[]string{"run", "--task", "lo"}, "logic"},
		{[]string{"bench", "--protocol", ""}, "worlds"},
	} {
		code, out, _ := execLine(t, append([]string{cobra.ShellCompNoDescRequestCmd}, c.args...)...)
		if code != 0 || !strings.Contains(out, c.want+"\n") {
			t.Errorf("__complete %q: status %d, %q; want %q", c.args, code, out, c.want)
		}
	}
}

// panicWriter stands for a bug: a command that panics.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

func TestPanicIsAnInternalError(t *testing.T) {
	var errOut bytes.Buffer
	t.Setenv("WORKBENCH_DEBUG", "")
	code := execute(newTestApp(nil, panicWriter{}, &errOut), []string{"models", "--json"})
	if code != 2 || !strings.HasPrefix(errOut.String(), "workbench: internal error: boom\n") || strings.Count(errOut.String(), "\n") != 2 {
		t.Errorf("status %d, stderr %q", code, errOut.String())
	}
}

func TestUINeedsATerminal(t *testing.T) {
	// The test's stdout is not a terminal: the UI refuses before training.
	for _, args := range [][]string{nil, {"ui"}, {"--theme", "light", "--workdir", t.TempDir()}} {
		code, _, errOut := execLine(t, args...)
		if code != 1 || !strings.HasPrefix(errOut, "workbench: the terminal UI needs an interactive terminal") {
			t.Errorf("%v: status %d, stderr %q", args, code, errOut)
		}
	}
	if code, _, errOut := execLine(t, "ui", "extra"); code != 1 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("ui extra: status %d, stderr %q", code, errOut)
	}
}
