package loaders

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/degaml/workbench/tasks"
)

// MaxLineBytes bounds one JSONL record when streaming: a "line" without end
// (a binary file, /dev/zero) must not be read into memory whole.
const MaxLineBytes = 16 << 20

// ParseFileEach is ParseEach over a file that may be bigger than memory
// should hold: JSON Lines are streamed one record at a time (memory is one
// line, whatever the file's size); other layouts, and formats that need the
// whole file (MedMCQA), are read whole under limit. The file is refused if
// it exceeds limit bytes either way.
func ParseFileEach(path, format string, limit int64, fn func(tasks.Example)) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return "", fmt.Errorf("%s: binary data (a NUL byte at offset %d): not a JSON or JSONL file", path, i)
	}
	var lay *layout
	if format != "" {
		if lay = findLayout(format); lay == nil {
			_, _, err := Parse(path, nil, format) // its unknown-format message
			return "", err
		}
	}
	if !streamable(head, br) || (lay != nil && lay.post != nil) {
		var size int64
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		data, err := readLimited(path, br, limit, size)
		if err != nil {
			return "", err
		}
		return ParseEach(path, data, format, fn)
	}
	p := &parser{file: path, lay: lay, each: fn}
	var read int64
	ln := 0
	for {
		line, err := readLine(br, MaxLineBytes)
		if len(line) > 0 || err == nil || errors.Is(err, errLongLine) {
			ln++
		}
		read += int64(len(line))
		if read > limit {
			return "", fmt.Errorf("%s: larger than the %s input limit; raise it with --max-bytes if the file is right", path, SizeString(limit))
		}
		if errors.Is(err, errLongLine) {
			p.add(Problem{Line: ln, Msg: fmt.Sprintf("line longer than %s: not a JSONL record", SizeString(MaxLineBytes))})
			break
		}
		if err != nil && err != io.EOF {
			return "", err
		}
		if ln == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if !utf8.Valid(line) {
			off := read - int64(len(line)) + int64(invalidAt(line))
			p.add(Problem{Line: ln, Msg: fmt.Sprintf("invalid UTF-8 at byte offset %d", off)})
			break
		}
		if l := bytes.TrimSpace(line); len(l) > 0 {
			r := &rec{p: p, line: ln}
			if msg := r.load(l, lineBase{p: p, off: -1, line: ln}); msg != "" {
				p.add(Problem{Line: ln, Msg: msg})
			}
			p.emit(r)
		}
		if err == io.EOF {
			break
		}
	}
	return p.finish()
}

var errLongLine = errors.New("line too long")

// readLine returns the next line (with its newline), at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > max {
			return out[:0], errLongLine
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return out, err
	}
}

func invalidAt(b []byte) int {
	off := 0
	for off < len(b) {
		r, n := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	return off
}

// streamable says whether the file is JSON Lines by the rule Parse uses:
// the first non-blank line is a complete JSON object. (A first line that is
// broken falls back to reading the whole file, where Parse decides.)
func streamable(head []byte, br *bufio.Reader) bool {
	body := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	i := bytes.IndexByte(body, '\n')
	if i < 0 {
		return false // the first line does not fit in the peek: let Parse decide
	}
	return json.Valid(bytes.TrimSpace(body[:i]))
}

// readLimited reads the rest of br (the file from its start) under limit;
// sizeHint is the file's size when known.
func readLimited(path string, br *bufio.Reader, limit, sizeHint int64) ([]byte, error) {
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= limit {
		buf.Grow(int(sizeHint) + 1) // one allocation, not a doubling series
	}
	chunk := make([]byte, 64<<10)
	for {
		n, err := br.Read(chunk)
		if i := bytes.IndexByte(chunk[:n], 0); i >= 0 {
			return nil, fmt.Errorf("%s: binary data (a NUL byte at offset %d): not a JSON or JSONL file", path, int64(buf.Len())+int64(i))
		}
		if int64(buf.Len()+n) > limit {
			return nil, fmt.Errorf("%s: larger than the %s input limit; raise it with --max-bytes if the file is right", path, SizeString(limit))
		}
		buf.Write(chunk[:n])
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
