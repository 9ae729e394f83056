package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/loaders"
)

// cmdTasksCheck implements `workbench tasks check FILE [--format F] [--json]`
// (args are what follows "tasks check"). It validates a benchmark file and
// prints a summary; on problems it returns an error whose lines are
// "FILE:LINE: message".
func cmdTasksCheck(args []string) error {
	_, stop := interruptibleWithin(0) // nothing to save: Ctrl-C ends it at once, with a line
	defer stop()
	return tasksCheck(args, os.Stdout)
}

// Raw: the error lines are FILE:LINE: messages for editors and scripts.
func init() {
	registerRaw("tasks check", "validate a benchmark file (DnD JSON, HF JSON/JSONL): FILE [--format F] [--json]", cmdTasksCheck)
}

// tasksCheckSummary is the --json output.
type tasksCheckSummary struct {
	Records int            `json:"records"`
	Options map[string]int `json:"options"` // option count → records ("0" = generation items)
	Answers map[string]int `json:"answers"` // gold letter → records
}

func tasksCheck(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("tasks check", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, not printed twice
	format := fs.String("format", "", "input format (default: autodetect): "+strings.Join(loaders.Formats(), ", "))
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	maxBytes := fs.Int64("max-bytes", loaders.MaxInputBytes, "refuse files larger than this many bytes")
	// FILE may come before, between or after the flags.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "usage: workbench tasks check FILE [--format F] [--json]")
				fs.SetOutput(os.Stderr)
				fs.PrintDefaults()
				return err // main exits 0 on flag.ErrHelp
			}
			return fmt.Errorf("tasks check: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		return fmt.Errorf("usage: workbench tasks check FILE [--format F] [--json] (got %d files)", len(files))
	}
	file := files[0]
	if *maxBytes <= 0 {
		return fmt.Errorf("tasks check: --max-bytes = %d: must be positive", *maxBytes)
	}
	s := tasksCheckSummary{Options: map[string]int{}, Answers: map[string]int{}}
	used, err := loaders.ParseFileEach(file, *format, *maxBytes, s.add)
	if err != nil {
		var le *loaders.Error
		if errors.As(err, &le) {
			var lines []string
			for _, p := range le.Problems[:min(len(le.Problems), loaders.MaxListed)] {
				lines = append(lines, p.LineString())
			}
			if n := le.Total() - len(lines); n > 0 {
				lines = append(lines, fmt.Sprintf("%s: ... and %d more problems", file, n))
			}
			return errors.New(strings.Join(lines, "\n"))
		}
		return err
	}
	if *asJSON {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(w, "%s: %d records, format %s\noptions: %s\nanswers: %s\n",
		file, s.Records, used, countsText(s.Options, true), countsText(s.Answers, false))
	return err
}

func (s *tasksCheckSummary) add(ex tasks.Example) {
	s.Records++
	s.Options[strconv.Itoa(len(ex.Options))]++
	if ex.Answer >= 0 && ex.Answer < len(ex.Options) {
		s.Answers[tasks.Letter(ex.Answer)]++
	}
}

// countsText renders "2×10 4×3" (numeric keys in numeric order) or "A=5 B=7".
func countsText(m map[string]int, numeric bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if numeric {
			a, _ := strconv.Atoi(keys[i])
			b, _ := strconv.Atoi(keys[j])
			return a < b
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		if numeric {
			parts[i] = fmt.Sprintf("%s options: %d", k, m[k])
		} else {
			parts[i] = fmt.Sprintf("%s=%d", k, m[k])
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
