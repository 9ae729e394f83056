package loaders

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/degaml/workbench/tasks"
)

func collectFile(t testing.TB, path, format string, limit int64) ([]tasks.Example, string, error) {
	var exs []tasks.Example
	used, err := ParseFileEach(path, format, limit, func(ex tasks.Example) { exs = append(exs, ex) })
	return exs, used, err
}

func collectBytes(name string, data []byte, format string) ([]tasks.Example, string, error) {
	var exs []tasks.Example
	used, err := ParseEach(name, data, format, func(ex tasks.Example) { exs = append(exs, ex) })
	return exs, used, err
}

// Streaming a JSONL file gives what parsing it whole gives: the same
// examples, the same problems, the same format.
func FuzzStreamMatchesParse(f *testing.F) {
	for _, s := range []string{
		`{"prompt":"Q\nA: x\nB: y","response":"[B]"}`,
		`{"prompt": 5, "response": []}`,
		`{"question":"q","opa":"a","opb":"b","opc":"c","opd":"d","cop":4}`,
		`{"goal":"g","sol1":"a","sol2":"b","label":0}` + "\n\n" + `{"goal":"g"}`,
		"\xef\xbb\xbf" + `{"passage":"p","question":"q","label":1}`,
		`{"question":"q","answer":"r\n#### 7"}` + "\n" + `not json`,
	} {
		f.Add([]byte(s + "\n" + s + "\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return // reported differently on purpose: streaming reports the records before the bad byte too
		}
		p := filepath.Join(t.TempDir(), "f.jsonl")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		se, su, serr := collectFile(t, p, "", 1<<20)
		pe, pu, perr := collectBytes(p, data, "")
		if su != pu || !reflect.DeepEqual(se, pe) || errString(serr) != errString(perr) {
			t.Fatalf("stream: %q %d examples %v\nparse:  %q %d examples %v", su, len(se), serr, pu, len(pe), perr)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The point of streaming: a JSONL file is never held whole, so even an
// endless one fails at the size limit with one line of memory.
func TestStreamLimits(t *testing.T) {
	dir := t.TempDir()
	line := `{"prompt":"Q\nA: x\nB: y","response":"[B]"}` + "\n"
	p := filepath.Join(dir, "big.jsonl")
	os.WriteFile(p, []byte(strings.Repeat(line, 1000)), 0o644)
	if _, _, err := collectFile(t, p, "", 10_000); err == nil || !strings.Contains(err.Error(), "input limit") {
		t.Errorf("size limit: %v", err)
	}
	exs, used, err := collectFile(t, p, "", 1<<20)
	if err != nil || used != "dnd" || len(exs) != 1000 {
		t.Errorf("%d examples, %q, %v", len(exs), used, err)
	}
	long := filepath.Join(dir, "long.jsonl")
	os.WriteFile(long, []byte(line+"{"+strings.Repeat(" ", MaxLineBytes+10)), 0o644)
	if _, _, err := collectFile(t, long, "", 1<<30); err == nil || !strings.Contains(err.Error(), "long.jsonl:2: line longer than 16 MiB") {
		t.Errorf("long line: %.200v", err)
	}
}
