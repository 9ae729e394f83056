// Package scoring turns model outputs into answers and metrics: the DnD
// answer-parsing rule for generations, log-likelihood choice (acc and
// lm-eval's acc_norm), calibration (ECE), confidence intervals (Wilson, t),
// and episode / prompt-batch sampling.
package scoring

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseAnswer applies the DnD rule to a generation and returns the option
// index, or -1 when no answer is found:
//  1. the first bracketed option letter, e.g. "[B]" (letters beyond
//     nOptions are ignored); for trueFalse items also "[True]"/"[False]"
//     (any case), mapped to A/0 and B/1;
//  2. else the first standalone option letter (uppercase, with no letter,
//     digit or '_' on either side, like a regexp \b); for trueFalse items
//     also the standalone words True/False (any case).
//
// The fallback is deliberately naive, as in the DnD evaluation: "A good
// answer is B" parses as A.
func ParseAnswer(generation string, nOptions int, trueFalse bool) int {
	if trueFalse && nOptions < 2 {
		nOptions = 2
	}
	if nOptions <= 0 {
		return -1
	}
	if i := firstBracketed(generation, nOptions, trueFalse); i >= 0 {
		return i
	}
	return firstStandalone(generation, nOptions, trueFalse)
}

func tfIndex(word string) int {
	switch strings.ToLower(word) {
	case "true":
		return 0
	case "false":
		return 1
	}
	return -1
}

func firstBracketed(s string, n int, tf bool) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '[' {
			continue
		}
		j := strings.IndexByte(s[i+1:], ']')
		if j < 0 {
			return -1
		}
		inner := s[i+1 : i+1+j]
		if len(inner) == 1 && inner[0] >= 'A' && int(inner[0]-'A') < n {
			return int(inner[0] - 'A')
		}
		if tf {
			if k := tfIndex(inner); k >= 0 {
				return k
			}
		}
	}
	return -1
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// firstStandalone scans word by word (maximal runs of word runes).
func firstStandalone(s string, n int, tf bool) int {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += w
			continue
		}
		j := i
		for j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r2) {
				break
			}
			j += w2
		}
		word := s[i:j]
		if len(word) == 1 && word[0] >= 'A' && int(word[0]-'A') < n {
			return int(word[0] - 'A')
		}
		if tf {
			if k := tfIndex(word); k >= 0 {
				return k
			}
		}
		i = j
	}
	return -1
}
