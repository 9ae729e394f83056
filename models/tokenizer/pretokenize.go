package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Split patterns this package implements. HF runs them with Oniguruma; Go's regexp has no lookahead
// ("\s+(?!\S)"), so each is implemented as a hand-written scanner that reproduces the backtracking matcher's
// result (first alternative that matches at a position wins, greedy quantifiers with backtracking).
const (
	// QwenSplitPattern is the Qwen2 pre-tokenizer regex: one digit per piece.
	QwenSplitPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// Llama3SplitPattern is the Llama-3 one: identical except up to three digits per piece.
	Llama3SplitPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// splitter is the scanner for QwenSplitPattern / Llama3SplitPattern (they differ only in maxDigits).
//
// Character classes, as Oniguruma defines them for UTF-8 (Unicode) patterns:
//
//	\p{L}  unicode.IsLetter (general category L)
//	\p{N}  unicode.IsNumber (Nd, Nl, No)
//	\s     unicode.IsSpace  (White_Space: 9-D, 20, 85, A0, 1680, 2000-200A, 2028, 2029, 202F, 205F, 3000)
//
// Each alternative, in order, at rune position i (every position starts a match, so the "Isolated" Split never
// produces unmatched gaps):
//
//  1. '(s|t|re|ve|m|ll|d), case-insensitive with Unicode simple folding (so "'ſ" matches like "'s").
//  2. an optional char that is not \r, \n, a letter or a number, then a maximal run of letters. Because a letter
//     can never be the optional char, this is "letters" or "one other char + letters".
//  3. 1..maxDigits numbers (greedy).
//  4. an optional ' ' then a maximal run of "other" chars (not space/letter/number), then any \r\n run.
//  5. \s*[\r\n]+ : within the maximal whitespace run, the greedy \s* backs off to the LAST \r or \n, so the
//     match ends just after it; fails when the run holds no newline.
//  6. \s+(?!\S) : the whole run when it reaches the end of text; otherwise the run minus its last char
//     (which is then followed by whitespace), provided that leaves at least one char.
//  7. \s+ : the whole run (a single whitespace char before a non-space).
type splitter struct {
	maxDigits int
}

func isOther(r rune) bool { return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// foldEq reports whether r equals the ASCII letter c under Unicode simple case folding.
func foldEq(r, c rune) bool {
	if r == c {
		return true
	}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if r == f {
			return true
		}
	}
	return false
}

// split calls emit with each pre-token of s, in order; the pieces concatenate back to s.
// Invalid UTF-8 bytes are treated as single "other" characters (HF never sees them: Rust strings are valid).
func (p splitter) split(s string, emit func(string)) {
	// Decode once: positions are rune indexes, offs maps them back to bytes.
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = 0xFFFD // any "other" char; the bytes themselves are kept via offs
		}
		runes = append(runes, r)
		offs = append(offs, i)
		i += n
	}
	offs = append(offs, len(s))
	for i := 0; i < len(runes); {
		j := p.matchAt(runes, i)
		emit(s[offs[i]:offs[j]])
		i = j
	}
}

// matchAt returns the end (exclusive, rune index) of the match starting at i; always > i.
func (p splitter) matchAt(r []rune, i int) int {
	n := len(r)
	c := r[i]

	// 1. contractions
	if c == '\'' && i+1 < n {
		a := r[i+1]
		if foldEq(a, 's') || foldEq(a, 't') || foldEq(a, 'm') || foldEq(a, 'd') {
			return i + 2
		}
		if i+2 < n {
			b := r[i+2]
			if (foldEq(a, 'r') && foldEq(b, 'e')) || (foldEq(a, 'v') && foldEq(b, 'e')) || (foldEq(a, 'l') && foldEq(b, 'l')) {
				return i + 3
			}
		}
	}

	// 2. [^\r\n\p{L}\p{N}]?\p{L}+
	start := -1
	if unicode.IsLetter(c) {
		start = i
	} else if c != '\r' && c != '\n' && !unicode.IsNumber(c) && i+1 < n && unicode.IsLetter(r[i+1]) {
		start = i + 1
	}
	if start >= 0 {
		j := start + 1
		for j < n && unicode.IsLetter(r[j]) {
			j++
		}
		return j
	}

	// 3. \p{N}{1,maxDigits}
	if unicode.IsNumber(c) {
		j := i + 1
		for j < n && j-i < p.maxDigits && unicode.IsNumber(r[j]) {
			j++
		}
		return j
	}

	// 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	k := i
	if c == ' ' && i+1 < n && isOther(r[i+1]) {
		k = i + 1
	}
	if isOther(r[k]) {
		j := k + 1
		for j < n && isOther(r[j]) {
			j++
		}
		for j < n && (r[j] == '\r' || r[j] == '\n') {
			j++
		}
		return j
	}

	// Only whitespace can reach here: every other char matched an earlier alternative.
	end := i
	for end < n && unicode.IsSpace(r[end]) {
		end++
	}
	if end == i { // unreachable by the argument above; keep progress guaranteed anyway
		return i + 1
	}
	// 5. \s*[\r\n]+
	for q := end - 1; q >= i; q-- {
		if r[q] == '\r' || r[q] == '\n' {
			return q + 1
		}
	}
	// 6. \s+(?!\S)
	if end == n {
		return end
	}
	if end-1 > i {
		return end - 1
	}
	// 7. \s+
	return end
}
