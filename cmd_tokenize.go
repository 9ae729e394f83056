package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks/loaders"
)

// cmdTokenize implements
//
//	workbench tokenize --model DIR|PRESET [--json]
//
// It tokenizes ALL of stdin (trailing whitespace and newlines included, since they are tokens too) and prints
// the ids: `{"ids":[...]}` with --json, otherwise space separated; a newline follows either way.
func cmdTokenize(args []string) error {
	_, stop := interruptibleWithin(0) // nothing to save: Ctrl-C ends it at once, with a line
	defer stop()
	return tokenize(os.Stdin, os.Stdout, args)
}

// main.go's table is filled by the cmd_*.go files, so registering here keeps main.go untouched.
func init() {
	register("tokenize", "print the token ids of stdin (--model DIR|nano-word|nano|micro, --json)", cmdTokenize)
}

func tokenize(stdin io.Reader, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	model := fs.String("model", "", "model directory holding tokenizer.json, or a preset name (nano-word: its word vocabulary; nano, micro: the byte tokenizer)")
	asJSON := fs.Bool("json", false, `print {"ids":[...]} instead of space-separated ids`)
	maxBytes := fs.Int64("max-bytes", maxTokenizeBytes, "refuse input larger than this many bytes")
	var cf commonFlags
	cf.registerPlaces(fs) // accepted everywhere; the byte tokenizer needs neither
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: workbench tokenize --model DIR|nano-word|nano|micro [--json] < text")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tokenize: unexpected arguments %q (the text is read from stdin)", fs.Args())
	}
	if *model == "" {
		return errors.New("tokenize: --model is required (a directory with tokenizer.json, or nano-word/nano/micro)")
	}
	tok, err := tokenizerFor(*model)
	if err != nil {
		return err
	}
	if *maxBytes <= 0 {
		return fmt.Errorf("tokenize: --max-bytes = %d: must be positive", *maxBytes)
	}
	// Bounded: `tokenize < /dev/zero` must end with an error, not fill memory.
	data, err := io.ReadAll(io.LimitReader(stdin, *maxBytes+1))
	if err != nil {
		return fmt.Errorf("tokenize: reading stdin: %w", err)
	}
	if int64(len(data)) > *maxBytes {
		return fmt.Errorf("tokenize: stdin is larger than the %s limit; raise it with --max-bytes", loaders.SizeString(*maxBytes))
	}
	// Reject rather than silently repair: the ids of repaired text would not be the ids of the input.
	if !utf8.Valid(data) {
		return errors.New("tokenize: stdin is not valid UTF-8")
	}
	ids := tok.Encode(string(data))

	w := bufio.NewWriter(stdout)
	buf := make([]byte, 0, 16)
	if *asJSON {
		w.WriteString(`{"ids":[`)
	}
	for i, id := range ids {
		if i > 0 {
			if *asJSON {
				w.WriteByte(',')
			} else {
				w.WriteByte(' ')
			}
		}
		w.Write(strconv.AppendInt(buf[:0], int64(id), 10))
	}
	if *asJSON {
		w.WriteString("]}")
	}
	w.WriteByte('\n')
	return w.Flush()
}

// maxTokenizeBytes is tokenize's default input limit: the ids take ~8 times
// the text's size in memory, so 16 MiB of text stays near 200 MiB.
const maxTokenizeBytes = 16 << 20

// tokenizerFor resolves --model: a preset name uses its own tokenizer (bytes or the built-in words), anything else
// is a directory with tokenizer.json.
func tokenizerFor(model string) (tokenizer.Tokenizer, error) {
	if p, err := models.PresetByName(model); err == nil {
		return pipeline.PresetTokenizer(p)
	}
	return tokenizer.Load(model)
}
