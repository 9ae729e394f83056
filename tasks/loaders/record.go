package loaders

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// rec is one raw record plus typed accessors that report precise problems
// ("field "label": want an integer, got string "x"") instead of failing.
type rec struct {
	p      *parser
	line   int    // line where the record starts
	num    int    // 1-based record number (arrays, keyed objects); 0 for JSONL
	key    string // key in a keyed object
	fields map[string]json.RawMessage
	lines  map[string]int // line of each top-level key
	bad    bool
}

// lineBase maps offsets inside a record back to file lines. For JSONL the
// whole record is on one line, so off is -1 and line is fixed.
type lineBase struct {
	p    *parser
	off  int64
	line int
}

// load decodes raw into fields; it returns a message when raw is not an object.
func (r *rec) load(raw []byte, lb lineBase) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		if strings.Contains(err.Error(), "unexpected end") {
			return "truncated JSON: unexpected end of input"
		}
		var se *json.SyntaxError
		if errors.As(err, &se) && lb.off < 0 {
			return fmt.Sprintf("invalid JSON at column %d: %v", se.Offset, err)
		}
		return "invalid JSON: " + err.Error()
	}
	if _, ok := v.(map[string]any); !ok {
		return "want a JSON object, got " + kind(raw)
	}
	if err := json.Unmarshal(raw, &r.fields); err != nil {
		return "invalid JSON: " + err.Error()
	}
	if lb.off < 0 {
		return "" // JSONL: every field is on the record's line
	}
	r.lines = map[string]int{}
	// Walk the top-level keys to learn their lines, so a problem in a
	// pretty-printed array points at the offending field.
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if k, ok := tok.(string); ok {
			if _, seen := r.lines[k]; !seen {
				r.lines[k] = lb.p.lineAt(lb.off + dec.InputOffset())
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// errf records a problem; field "" means the record as a whole.
func (r *rec) errf(field, format string, args ...any) {
	r.bad = true
	if len(r.p.probs) >= MaxProblems {
		r.p.more++ // counted, not formatted: a million bad records cost no messages
		return
	}
	msg := fmt.Sprintf(format, args...)
	line := r.line
	if field != "" {
		msg = fmt.Sprintf("field %q: %s", field, msg)
		if l, ok := r.lines[field]; ok {
			line = l
		}
	}
	r.p.add(Problem{Line: line, Record: r.num, Key: r.key, Msg: msg})
}

// kind describes a raw JSON value for messages.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return fmt.Sprintf("string %q", s)
	case 't', 'f':
		return "boolean " + string(raw)
	case 'n':
		return "null"
	default:
		return "number " + string(raw)
	}
}

func (r *rec) has(k string) bool {
	v, ok := r.fields[k]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// get returns the raw value of a required field.
func (r *rec) get(k string) (json.RawMessage, bool) {
	v, ok := r.fields[k]
	if !ok {
		r.errf("", "missing field %q", k)
		return nil, false
	}
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		r.errf(k, "is null")
		return nil, false
	}
	return v, true
}

// str reads a required string field.
func (r *rec) str(k string) string {
	v, ok := r.get(k)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		r.errf(k, "want a string, got %s", kind(v))
	}
	return s
}

// optStr reads an optional string field ("" when absent or null).
func (r *rec) optStr(k string) string {
	if !r.has(k) {
		return ""
	}
	return r.str(k)
}

// strList reads a required array of strings.
func (r *rec) strList(k string) []string {
	v, ok := r.get(k)
	if !ok {
		return nil
	}
	return r.strListRaw(k, v)
}

func (r *rec) strListRaw(k string, v json.RawMessage) []string {
	var raws []json.RawMessage
	if err := json.Unmarshal(v, &raws); err != nil {
		r.errf(k, "want an array of strings, got %s", kind(v))
		return nil
	}
	out := make([]string, len(raws))
	for i, e := range raws {
		if err := json.Unmarshal(e, &out[i]); err != nil || kind(e) == "null" {
			r.errf(k, "element %d: want a string, got %s", i, kind(e))
			return nil
		}
	}
	return out
}

// intVal reads a field holding an integer as a JSON number or a string of
// digits (HF datasets store labels both ways). ok is false after a problem.
func (r *rec) intVal(k string) (int, bool) {
	v, ok := r.get(k)
	if !ok {
		return 0, false
	}
	return r.intRaw(k, v)
}

func (r *rec) intRaw(k string, v json.RawMessage) (int, bool) {
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		if i, err := strconv.Atoi(string(n)); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil && f == float64(int(f)) && f > -1e9 && f < 1e9 {
			return int(f), true // 1.0 from pandas exports
		}
		r.errf(k, "want an integer, got %s", kind(v))
		return 0, false
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if i, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return i, true
		}
		if strings.TrimSpace(s) == "" {
			r.errf(k, "is empty (an unlabeled split? use a labeled one)")
			return 0, false
		}
	}
	r.errf(k, "want an integer, got %s", kind(v))
	return 0, false
}

// index reads an integer answer with the given base (0 or 1) and checks
// it against n options; it returns the 0-based index or -1.
func (r *rec) index(k string, base, n int) int {
	i, ok := r.intVal(k)
	if !ok {
		return -1
	}
	if i < base || i >= n+base {
		r.errf(k, "answer %d out of range %d..%d", i, base, n+base-1)
		return -1
	}
	return i - base
}

// letterIndex maps an answer given as a letter ("C"), or as one of labels
// (ARC's "1".."4"), to an index.
func (r *rec) letterIndex(k string, labels []string) int {
	v, ok := r.get(k)
	if !ok {
		return -1
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		r.errf(k, "want a string label, got %s", kind(v))
		return -1
	}
	s = strings.TrimSpace(s)
	for i, l := range labels {
		if strings.TrimSpace(l) == s {
			return i
		}
	}
	if s == "" {
		r.errf(k, "is empty (an unlabeled split? use a labeled one)")
	} else {
		r.errf(k, "answer %q is not one of the labels %q", s, labels)
	}
	return -1
}

func letters(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = optLetter(i)
	}
	return out
}
