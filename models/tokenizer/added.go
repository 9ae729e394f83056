package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json "added_tokens" (or a Byte special token).
type addedToken struct {
	Content    string `json:"content"`
	ID         int    `json:"id"`
	Special    bool   `json:"special"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Normalized bool   `json:"normalized"`
}

// segment is a piece of input: either an added token (id ≥ 0) or plain text to tokenize (id = -1).
type segment struct {
	text string
	id   int
}

// addedMatcher splits text on added tokens with leftmost-longest semantics, like HF's AddedVocabulary
// (an Aho-Corasick LeftmostLongest automaton): scanning left to right, the first position where any token
// matches wins, and among tokens matching there the longest one.
type addedMatcher struct {
	byFirst map[byte][]addedToken // candidates by first byte, longest first
}

func newAddedMatcher(toks []addedToken) *addedMatcher {
	m := &addedMatcher{byFirst: map[byte][]addedToken{}}
	for _, t := range toks {
		if t.Content == "" {
			continue
		}
		m.byFirst[t.Content[0]] = append(m.byFirst[t.Content[0]], t)
	}
	for _, l := range m.byFirst {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].Content) > len(l[j].Content) })
	}
	return m
}

func (m *addedMatcher) empty() bool { return m == nil || len(m.byFirst) == 0 }

// split appends the segments of s to out. Empty plain segments are dropped.
func (m *addedMatcher) split(s string, out []segment) []segment {
	if m.empty() {
		if s != "" {
			out = append(out, segment{s, -1})
		}
		return out
	}
	plainStart := 0
	for i := 0; i < len(s); {
		tok, ok := m.matchAt(s, i)
		if !ok {
			i++
			continue
		}
		start, end := i, i+len(tok.Content)
		// lstrip/rstrip make the token swallow adjacent whitespace (HF semantics), but never across an earlier
		// token: plainStart bounds the left side.
		if tok.LStrip {
			for start > plainStart {
				r, n := utf8.DecodeLastRuneInString(s[plainStart:start])
				if !unicode.IsSpace(r) {
					break
				}
				start -= n
			}
		}
		if tok.RStrip {
			for end < len(s) {
				r, n := utf8.DecodeRuneInString(s[end:])
				if !unicode.IsSpace(r) {
					break
				}
				end += n
			}
		}
		if start > plainStart {
			out = append(out, segment{s[plainStart:start], -1})
		}
		out = append(out, segment{tok.Content, tok.ID})
		plainStart, i = end, end
	}
	if plainStart < len(s) {
		out = append(out, segment{s[plainStart:], -1})
	}
	return out
}

func (m *addedMatcher) matchAt(s string, i int) (addedToken, bool) {
	for _, t := range m.byFirst[s[i]] {
		if len(s)-i < len(t.Content) || s[i:i+len(t.Content)] != t.Content {
			continue
		}
		if t.SingleWord && !(wordBoundaryBefore(s, i) && wordBoundaryAfter(s, i+len(t.Content))) {
			continue
		}
		return t, true
	}
	return addedToken{}, false
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func wordBoundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordChar(r)
}

func wordBoundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordChar(r)
}
