package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks/loaders"
)

// tokenizeOptions are `workbench tokenize`'s flags.
type tokenizeOptions struct {
	model    string
	json     bool
	maxBytes int64
}

// newTokenizeCmd is
//
//	workbench tokenize --model DIR|PRESET [--json]
//
// It tokenizes ALL of stdin (trailing whitespace and newlines included, since they are tokens too) and prints
// the ids: `{"ids":[...]}` with --json, otherwise space separated; a newline follows either way.
func newTokenizeCmd(a *app) *cobra.Command {
	var o tokenizeOptions
	cmd := &cobra.Command{
		Use:   "tokenize",
		Short: "print the token ids of stdin (--model DIR|nano-word|nano|micro, --json)",
		Args:  noArgs("tokenize: unexpected argument %q (the text is read from stdin)"),
		RunE: func(*cobra.Command, []string) error {
			_, stop := interruptibleWithin(0) // nothing to save: Ctrl-C ends it at once, with a line
			defer stop()
			return tokenize(a.stdin, a.stdout, a.stderr, &o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.model, "model", "", "model directory holding tokenizer.json, or a preset name (nano-word: its word vocabulary; nano, micro: the byte tokenizer)")
	fs.BoolVar(&o.json, "json", false, `print {"ids":[...]} instead of space-separated ids`)
	fs.Int64Var(&o.maxBytes, "max-bytes", maxTokenizeBytes, "refuse input larger than this many bytes")
	return cmd
}

func tokenize(stdin io.Reader, stdout, stderr io.Writer, o *tokenizeOptions) error {
	if o.model == "" {
		return errors.New("tokenize: --model is required (a directory with tokenizer.json, or nano-word/nano/micro)")
	}
	tok, err := tokenizerFor(o.model)
	if err != nil {
		return err
	}
	if o.maxBytes <= 0 {
		return fmt.Errorf("tokenize: --max-bytes = %d: must be positive", o.maxBytes)
	}
	// Bounded: `tokenize < /dev/zero` must end with an error, not fill memory.
	data, err := io.ReadAll(io.LimitReader(stdin, o.maxBytes+1))
	if err != nil {
		return fmt.Errorf("tokenize: reading stdin: %w", err)
	}
	if int64(len(data)) > o.maxBytes {
		return fmt.Errorf("tokenize: stdin is larger than the %s limit; raise it with --max-bytes", loaders.SizeString(o.maxBytes))
	}
	// Reject rather than silently repair: the ids of repaired text would not be the ids of the input.
	if !utf8.Valid(data) {
		return errors.New("tokenize: stdin is not valid UTF-8")
	}
	ids := tok.Encode(string(data))
	// The word model maps every other word to <unk> without complaint;
	// say which, so "3 3" is not mistaken for a reading of the text.
	if wt, ok := tok.(*tokenizer.Word); ok {
		if u := wt.Unknown(string(data)); len(u) > 0 {
			fmt.Fprintf(stderr, "tokenize: warning: not among %s's %d words, read as <unk> (id %d): %s\n",
				o.model, len(wt.Words()), tokenizer.WordUNK, strings.Join(u[:min(len(u), 20)], ", ")+more(len(u)-20))
		}
	}

	w := bufio.NewWriter(stdout)
	buf := make([]byte, 0, 16)
	if o.json {
		w.WriteString(`{"ids":[`)
	}
	for i, id := range ids {
		if i > 0 {
			if o.json {
				w.WriteByte(',')
			} else {
				w.WriteByte(' ')
			}
		}
		w.Write(strconv.AppendInt(buf[:0], int64(id), 10))
	}
	if o.json {
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

// more is ", … and N more" for N > 0, else "".
func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(", … and %d more", n)
}
