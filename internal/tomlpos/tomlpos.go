// Package tomlpos finds the line a TOML key is written on, so a config or
// theme error can say FILE:LINE. BurntSushi/toml knows key positions but
// keeps them private for keys it did not decode, so the file is re-scanned:
// table headers set the current table, "key = …" lines define keys in it.
package tomlpos

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// Lines maps every table header and key a file writes out to its line
// (1-based). Build it once per file with Scan; lookups are then cheap even
// for a file with many keys.
type Lines map[string]int

// Scan reads data line by line. It is a position finder, not a parser: a
// line it cannot read is skipped, never an error (the decoder reports
// those).
func Scan(data []byte) Lines {
	lines := Lines{}
	var table []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1) // one long line must not stop the scan
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			head := s
			if i := strings.Index(head, "#"); i >= 0 {
				head = head[:i]
			}
			table = splitKey(strings.Trim(strings.TrimSpace(head), "[] "))
			lines.add(table, n)
			continue
		}
		name, _, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		lines.add(append(table[:len(table):len(table)], splitKey(name)...), n)
	}
	return lines
}

func (l Lines) add(key []string, n int) {
	k := strings.Join(key, "\x00")
	if _, seen := l[k]; !seen { // a repeated key is the decoder's error; point at the first
		l[k] = n
	}
}

// Of returns the line that defines key, or the line of its nearest written
// ancestor (a key inside an inline table, "a = {b = 1}", is on a's line);
// 0 when the file does not write it.
func (l Lines) Of(key toml.Key) int {
	for n := len(key); n > 0; n-- {
		if line, ok := l[strings.Join(key[:n], "\x00")]; ok {
			return line
		}
	}
	return 0
}

// KeyLine is Scan(data).Of(key), for a single lookup.
func KeyLine(data []byte, key toml.Key) int { return Scan(data).Of(key) }

// splitKey splits a dotted key at dots outside quotes and unquotes each
// part: `a."b.c".d` is [a b.c d].
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}
