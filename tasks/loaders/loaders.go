// Package loaders reads real benchmark files into tasks.Example values: the
// DnD/DeGAML JSON records and the common Hugging Face JSON / JSONL layouts.
//
// Every problem is reported, none is skipped: Load returns an *Error listing
// each bad record as "FILE:LINE: message" (JSONL) or "FILE:LINE: record N:
// message" (JSON arrays and keyed objects; records are numbered from 1;
// "FILE: record N: message" when the line is unknown). On error the
// returned slice still holds the records that parsed, in file order, so a
// caller can inspect them, but it must not treat the load as complete.
package loaders

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/degaml/workbench/tasks"
)

// Problem is one thing wrong with an input file.
type Problem struct {
	File   string
	Line   int    // 1-based line of the record (or of the offending field); 0 when unknown
	Record int    // 1-based record number in a JSON array / keyed object; 0 for JSONL
	Key    string // the record's key in a keyed object (PubMedQA's ori_pqal.json)
	Msg    string
}

// String renders the problem in the loader style.
func (p Problem) String() string {
	if p.Record > 0 {
		if p.Key != "" {
			return fmt.Sprintf("%s: record %d (key %q): %s", p.File, p.Record, p.Key, p.Msg)
		}
		return fmt.Sprintf("%s: record %d: %s", p.File, p.Record, p.Msg)
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// LineString renders the problem as "FILE:LINE: message" even for records of
// a JSON array (then "FILE:LINE: record N: message"), for editors and CI.
func (p Problem) LineString() string {
	line := p.Line
	if line < 1 {
		line = 1
	}
	msg := p.Msg
	if p.Record > 0 {
		if p.Key != "" {
			msg = fmt.Sprintf("record %d (key %q): %s", p.Record, p.Key, msg)
		} else {
			msg = fmt.Sprintf("record %d: %s", p.Record, msg)
		}
	}
	return fmt.Sprintf("%s:%d: %s", p.File, line, msg)
}

// Error lists the problems found in a file: the first MaxProblems of them,
// and how many more there were (a file of a million bad records must not
// need memory for a million messages to say so).
type Error struct {
	Problems []Problem
	More     int // problems found but not kept
}

// MaxProblems bounds the problems an Error keeps; MaxListed bounds how many
// its message shows.
const (
	MaxProblems = 1000
	MaxListed   = 50
)

// Total is the number of problems found.
func (e *Error) Total() int { return len(e.Problems) + e.More }

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == MaxListed {
			fmt.Fprintf(&b, "\n... and %d more problems", e.Total()-MaxListed)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		// With a known line, FILE:LINE first, as `tasks check` prints it:
		// `run --tasks` and the TUI show this message, and an editor can
		// jump to the record.
		if p.Line > 0 {
			b.WriteString(p.LineString())
		} else {
			b.WriteString(p.String())
		}
	}
	return b.String()
}

// layout parses one record of a format. post, when set, runs once over all
// records after parsing (MedMCQA's per-file answer base).
type layout struct {
	name string
	doc  string
	// parse reads one record; problems go to r.
	parse func(r *rec) tasks.Example
	post  func(p *parser)
}

var layouts []*layout

func register(l *layout) { layouts = append(layouts, l) }

func findLayout(name string) *layout {
	for _, l := range layouts {
		if l.name == name {
			return l
		}
	}
	return nil
}

// Formats lists the accepted --format names (autodetection is "").
func Formats() []string {
	out := make([]string, 0, len(layouts))
	for _, l := range layouts {
		out = append(out, l.name)
	}
	sort.Strings(out)
	return out
}

// FormatDoc returns a one-line description of a format, "" if unknown.
func FormatDoc(name string) string {
	if l := findLayout(name); l != nil {
		return l.doc
	}
	return ""
}

// Load reads path and parses it; format "" autodetects from the keys of the
// first record.
func Load(path string, format string) ([]tasks.Example, error) {
	data, err := ReadFile(path, MaxInputBytes)
	if err != nil {
		return nil, err
	}
	exs, _, err := Parse(path, data, format)
	return exs, err
}

// MaxInputBytes is the default limit on a benchmark file's size: the largest
// public ones (MedMCQA's train split) are under 100 MiB, and parsing holds
// the file and its examples in memory.
const MaxInputBytes int64 = 256 << 20

// ReadFile reads at most limit bytes of path (a file, a pipe or a device),
// failing early on binary input: JSON never holds a raw NUL byte, so
// /dev/zero or a model file is refused after one block, not after filling
// memory.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return readLimited(path, bufio.NewReaderSize(f, 64<<10), limit, size)
}

// SizeString renders a byte count as "256 MiB".
func SizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Parse parses data (named name in messages) and returns the examples and the
// format used. It never panics on arbitrary input.
func Parse(name string, data []byte, format string) ([]tasks.Example, string, error) {
	return parse(name, data, format, nil)
}

// ParseEach is Parse for a caller that only looks at each example once (a
// check, a summary): fn sees every clean example in file order and, unless
// the format needs a pass over the whole file (MedMCQA), none is kept, so a
// big file costs its bytes and not its examples too.
func ParseEach(name string, data []byte, format string, fn func(tasks.Example)) (string, error) {
	_, used, err := parse(name, data, format, fn)
	return used, err
}

func parse(name string, data []byte, format string, each func(tasks.Example)) ([]tasks.Example, string, error) {
	p := &parser{file: name, data: data, each: each}
	if format != "" {
		p.lay = findLayout(format)
		if p.lay == nil {
			return nil, "", fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
		}
	}
	p.split() // parses each record as it is cut (see emit)
	exs, used, err := p.result()
	return exs, used, err
}

// result runs the layout's post step (MedMCQA) and returns what Parse returns.
func (p *parser) result() ([]tasks.Example, string, error) {
	if lay := p.lay; lay != nil && lay.post != nil {
		lay.post(p)
		// Check the shared invariants after post (MedMCQA's answers are raw
		// until then) and keep only clean records.
		exs := p.exs[:0]
		for i, ex := range p.exs {
			r := p.good[i]
			if !r.bad {
				checkExample(r, &ex)
			}
			if !r.bad {
				exs = append(exs, ex)
			}
		}
		p.exs = exs
		if p.each != nil {
			for _, ex := range exs {
				p.each(ex)
			}
		}
	}
	if p.nrecs == 0 && len(p.probs) == 0 {
		p.add(Problem{Line: 1, Msg: "no records"})
	}
	name2 := ""
	if p.lay != nil {
		name2 = p.lay.name
	}
	if len(p.probs) > 0 {
		sort.SliceStable(p.probs, func(i, j int) bool { return p.probs[i].Line < p.probs[j].Line })
		return p.exs, name2, &Error{Problems: p.probs, More: p.more}
	}
	return p.exs, name2, nil
}

// finish is result for a streaming parse, whose examples went to each.
func (p *parser) finish() (string, error) {
	_, used, err := p.result()
	return used, err
}

// checkExample enforces the invariants every layout must satisfy.
func checkExample(r *rec, ex *tasks.Example) {
	if strings.TrimSpace(ex.Prompt) == "" {
		r.errf("", "empty question text")
	}
	if len(ex.Options) == 0 {
		if ex.Target == "" {
			r.errf("", "no options and no target")
		}
		return
	}
	if len(ex.Options) < 2 {
		r.errf("", "only %d option (need at least 2)", len(ex.Options))
	}
	if len(ex.Options) > 26 {
		r.errf("", "%d options (at most 26 letters)", len(ex.Options))
	}
	for i, o := range ex.Options {
		if strings.TrimSpace(o) == "" {
			r.errf("", "option %s is empty", optLetter(i))
		}
	}
	if ex.Answer < 0 || ex.Answer >= len(ex.Options) {
		r.errf("", "answer index %d out of range for %d options", ex.Answer, len(ex.Options))
	}
}

func optLetter(i int) string {
	if i >= 0 && i < 26 {
		return tasks.Letter(i)
	}
	return "#" + strconv.Itoa(i+1)
}

// parser holds the state of one Parse call.
type parser struct {
	file  string
	data  []byte
	lay   *layout // forced, or detected from the first record with fields
	nrecs int     // records seen
	noLay bool    // detection failed (reported once)
	probs []Problem
	more  int // problems beyond MaxProblems, counted only
	exs   []tasks.Example
	good  []*rec              // the record of each entry of exs
	each  func(tasks.Example) // ParseEach's callback; nil: collect exs

	// lineAt's memo: offsets mostly grow, so counting from the last answer
	// keeps a big file linear instead of quadratic.
	lineOff int64
	lineNum int
}

func (p *parser) add(pr Problem) {
	if len(p.probs) >= MaxProblems {
		p.more++
		return
	}
	pr.File = p.file
	p.probs = append(p.probs, pr)
}

// emit parses one record as soon as it is cut, and drops its raw fields: a
// big file is held once (its bytes), not twice (its bytes and a map per
// record).
func (p *parser) emit(r *rec) {
	p.nrecs++
	if r.fields == nil || p.noLay {
		return // its problem is already recorded
	}
	if p.lay == nil {
		if p.lay = detect(r.fields); p.lay == nil {
			p.noLay = true
			p.add(Problem{Line: r.line, Record: r.num, Key: r.key,
				Msg: fmt.Sprintf("cannot detect the format from keys [%s] (use --format, one of: %s)",
					strings.Join(sortedKeys(r.fields), " "), strings.Join(Formats(), ", "))})
			return
		}
	}
	ex := p.lay.parse(r)
	r.fields = nil
	if p.lay.post == nil && !r.bad {
		checkExample(r, &ex) // nothing left to do after the file: check now, keep no record
		switch {
		case r.bad:
		case p.each != nil:
			p.each(ex)
		default:
			p.exs = append(p.exs, ex)
		}
		return
	}
	if !r.bad {
		p.exs = append(p.exs, ex)
		p.good = append(p.good, r)
	}
}

// lineAt returns the 1-based line of byte offset off.
func (p *parser) lineAt(off int64) int {
	off = max(0, min(off, int64(len(p.data))))
	if p.lineNum == 0 || off < p.lineOff {
		p.lineOff, p.lineNum = 0, 1
	}
	p.lineNum += bytes.Count(p.data[p.lineOff:off], []byte{'\n'})
	p.lineOff = off
	return p.lineNum
}

// split validates the encoding and cuts data into raw records.
func (p *parser) split() {
	if !utf8.Valid(p.data) {
		off := 0
		for off < len(p.data) {
			r, n := utf8.DecodeRune(p.data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		// Go's JSON decoder would silently turn these bytes into U+FFFD.
		p.add(Problem{Line: p.lineAt(int64(off)), Msg: fmt.Sprintf("invalid UTF-8 at byte offset %d", off)})
		return
	}
	start := 0
	if bytes.HasPrefix(p.data, []byte("\xef\xbb\xbf")) {
		start = 3 // UTF-8 byte order mark
	}
	body := bytes.TrimLeft(p.data[start:], " \t\r\n")
	if len(body) == 0 {
		p.add(Problem{Line: 1, Msg: "empty file"})
		return
	}
	first := int64(len(p.data) - len(body))
	switch body[0] {
	case '[':
		p.splitArray(first)
	case '{':
		if p.looksJSONL(first) {
			p.splitJSONL(start)
		} else {
			p.splitKeyed(first)
		}
	default:
		p.add(Problem{Line: p.lineAt(first), Msg: fmt.Sprintf("not JSON: file starts with %q (want '[' or '{')", firstRune(body))})
	}
}

func firstRune(b []byte) string {
	r, _ := utf8.DecodeRune(b)
	return string(r)
}

// looksJSONL decides between JSON Lines and one top-level object: JSONL when
// the first line is a complete object, or when the whole file is not valid
// JSON and every non-blank line starts with '{' (a JSONL file whose first line
// is broken).
func (p *parser) looksJSONL(first int64) bool {
	rest := p.data[first:]
	line := rest
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		line = rest[:i]
	}
	if json.Valid(bytes.TrimSpace(line)) {
		return true
	}
	if json.Valid(rest) {
		return false
	}
	for l := range bytes.Lines(rest) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '{' {
			return false
		}
	}
	return true
}

func (p *parser) splitJSONL(start int) {
	ln := 0
	for l := range bytes.Lines(p.data[start:]) { // no slice of a million lines
		ln++
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue // blank lines carry no record
		}
		r := &rec{p: p, line: ln}
		if err := r.load(l, lineBase{p: p, off: -1, line: ln}); err != "" {
			p.add(Problem{Line: ln, Msg: err})
		}
		p.emit(r)
	}
}

func (p *parser) splitArray(first int64) {
	p.eachElement(first, func(dec *json.Decoder, n int) bool {
		off := skipSep(p.data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			p.syntax(err, off, n, "")
			return false
		}
		r := &rec{p: p, line: p.lineAt(off), num: n}
		if msg := r.load(raw, lineBase{p: p, off: off}); msg != "" {
			p.add(Problem{Line: r.line, Record: n, Msg: msg})
		}
		p.emit(r)
		return true
	})
}

// splitKeyed reads a top-level object whose values are records, as in
// PubMedQA's ori_pqal.json ({"PMID": {...}, ...}).
func (p *parser) splitKeyed(first int64) {
	p.eachElement(first, func(dec *json.Decoder, n int) bool {
		off := skipSep(p.data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			p.syntax(err, off, n, "")
			return false
		}
		key, _ := tok.(string)
		voff := skipSep(p.data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			p.syntax(err, voff, n, key)
			return false
		}
		r := &rec{p: p, line: p.lineAt(off), num: n, key: key}
		if msg := r.load(raw, lineBase{p: p, off: voff}); msg != "" {
			if strings.HasPrefix(msg, "want a JSON object") {
				msg = "top-level object is neither JSON Lines nor a map of records: " + msg
			}
			p.add(Problem{Line: r.line, Record: n, Key: key, Msg: msg})
		}
		p.emit(r)
		return true
	})
}

// eachElement walks the top-level JSON array or object that starts at byte
// first: it reads the opening delimiter, calls elem for element n (from 1)
// until elem reports a problem that ends the walk by returning false, then
// checks the closing delimiter and that nothing follows it.
func (p *parser) eachElement(first int64, elem func(dec *json.Decoder, n int) bool) {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	if _, err := dec.Token(); err != nil { // '[' or '{'
		p.add(Problem{Line: p.lineAt(first), Msg: "invalid JSON: " + err.Error()})
		return
	}
	n := 0
	for dec.More() {
		n++
		if !elem(dec, n) {
			return
		}
	}
	if _, err := dec.Token(); err != nil { // ']' or '}'
		p.syntax(err, skipSep(p.data, dec.InputOffset()), n+1, "")
		return
	}
	p.trailing(dec)
}

func (p *parser) trailing(dec *json.Decoder) {
	off := skipSep(p.data, dec.InputOffset())
	if rest := bytes.TrimSpace(p.data[off:]); len(rest) > 0 {
		p.add(Problem{Line: p.lineAt(off), Msg: "unexpected data after the end of the top-level JSON value"})
	}
}

// syntax reports a decode error of record n that starts at off.
func (p *parser) syntax(err error, off int64, n int, key string) {
	var se *json.SyntaxError
	msg := "invalid JSON: " + err.Error()
	line := p.lineAt(off)
	switch {
	case errors.As(err, &se):
		line = p.lineAt(se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		msg = "truncated JSON: unexpected end of input"
		line = p.lineAt(int64(len(p.data)))
	}
	p.add(Problem{Line: line, Record: n, Key: key, Msg: msg})
}

// skipSep moves off past whitespace and one separator so it points at the
// next value; the decoder's offset sits just after the previous token.
func skipSep(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// detect picks a layout from the keys of the first record.
func detect(f map[string]json.RawMessage) *layout {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := f[k]; !ok {
				return false
			}
		}
		return true
	}
	name := ""
	switch {
	case has("prompt", "response"):
		name = "dnd"
	case has("endings") && (has("ctx_a") || has("ctx")):
		name = "hellaswag"
	case has("sentence", "option1", "option2"):
		name = "winogrande"
	case has("goal", "sol1", "sol2"):
		name = "piqa"
	case has("answerA", "answerB"):
		name = "siqa"
	case has("question_stem"):
		name = "openbookqa"
	case has("opa", "opb"):
		name = "medmcqa"
	case has("QUESTION") || has("final_decision"):
		name = "pubmedqa"
	case has("passage", "question"):
		name = "boolq"
	case has("sent1", "ending0"):
		name = "medqa"
	case has("options") && (has("context") || has("query") || has("text")):
		name = "logiqa"
	case has("options", "question"):
		name = "medqa"
	case has("question", "choices") || has("question", "answerKey"):
		name = "arc"
	case has("question", "answer") && len(f) <= 3:
		name = "gsm8k"
	}
	if name == "" {
		return nil
	}
	return findLayout(name)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
