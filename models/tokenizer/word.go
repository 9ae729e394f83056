package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
)

// Word tokenizer layout: the special tokens come first, then the vocabulary's words in list order.
const (
	WordPAD = 0 // "<pad>"
	WordBOS = 1 // "<bos>"
	WordEOS = 2 // "<eos>"
	WordUNK = 3 // "<unk>": any word outside the vocabulary
)

var wordSpecials = []string{"<pad>", "<bos>", "<eos>", "<unk>"}

// Word is the tokenizer of the built-in word-vocabulary models: text is lower-cased and split on white space
// (punctuation marks that end a word — "magnetic?" — are split off, since every mark is a word of its own in
// the built-in vocabulary); every piece must be a word of a fixed list. A closed vocabulary makes a tiny model
// ~7× cheaper per step than bytes for the same items (../shared/SUITES-V2.md) and makes "which words does it
// know" a question with an answer. Byte and BPE stay the tokenizers of real checkpoints.
type Word struct {
	words []string       // id - len(wordSpecials) → word
	ids   map[string]int // word → id
	size  int            // VocabSize: at least len(specials)+len(words); spare ids are never produced
}

// NewWord returns a word tokenizer over vocab (duplicates and empty or white-space words are errors) whose
// VocabSize is size, or exactly the needed size when size is 0; a model may reserve spare ids.
func NewWord(vocab []string, size int) (*Word, error) {
	t := &Word{ids: map[string]int{}}
	for i, s := range wordSpecials {
		t.ids[s] = i
	}
	for _, w := range vocab {
		if w == "" || strings.IndexFunc(w, unicode.IsSpace) >= 0 || w != strings.ToLower(w) {
			return nil, fmt.Errorf("tokenizer: word %q must be one lower-case piece without spaces", w)
		}
		if _, dup := t.ids[w]; dup {
			return nil, fmt.Errorf("tokenizer: word %q listed twice", w)
		}
		t.ids[w] = len(wordSpecials) + len(t.words)
		t.words = append(t.words, w)
	}
	need := len(wordSpecials) + len(t.words)
	t.size = max(size, need)
	if size > 0 && size < need {
		return nil, fmt.Errorf("tokenizer: %d words need %d ids, more than the model's vocabulary of %d", len(t.words), need, size)
	}
	return t, nil
}

// wordMarks are split off the end or start of a piece ("magnetic?" → "magnetic" "?").
const wordMarks = "?.,:;!()[]="

// pieces splits text into lower-case words, splitting marks off words.
func pieces(text string) []string {
	var out []string
	for _, f := range strings.Fields(strings.ToLower(text)) {
		if _, special := specialIndex(f); special {
			out = append(out, f)
			continue
		}
		var tail []string
		for len(f) > 1 && strings.ContainsRune(wordMarks, rune(f[len(f)-1])) {
			tail = append([]string{f[len(f)-1:]}, tail...)
			f = f[:len(f)-1]
		}
		for len(f) > 1 && strings.ContainsRune(wordMarks, rune(f[0])) {
			out = append(out, f[:1])
			f = f[1:]
		}
		out = append(out, f)
		out = append(out, tail...)
	}
	return out
}

func specialIndex(s string) (int, bool) {
	for i, sp := range wordSpecials {
		if s == sp {
			return i, true
		}
	}
	return 0, false
}

// Encode maps each word to its id; words outside the vocabulary become WordUNK (Unknown names them).
func (t *Word) Encode(text string) []int {
	ps := pieces(text)
	ids := make([]int, len(ps))
	for i, p := range ps {
		id, ok := t.ids[p]
		if !ok {
			id = WordUNK
		}
		ids[i] = id
	}
	return ids
}

// Unknown lists, in order and without repeats, the words of text outside the vocabulary.
func (t *Word) Unknown(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range pieces(text) {
		if _, ok := t.ids[p]; !ok && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Check returns an error naming the out-of-vocabulary words of text, nil when it has none.
func (t *Word) Check(text string) error {
	if u := t.Unknown(text); len(u) > 0 {
		return fmt.Errorf("unknown word(s): %s", strings.Join(u, ", "))
	}
	return nil
}

// Words returns the vocabulary (without the special tokens), in id order.
func (t *Word) Words() []string { return append([]string(nil), t.words...) }

// DecodeBytes renders every word of ids with a leading space (" magnetic"), so that decoding a stream one
// id at a time and concatenating gives Decode's text with one leading space; unknown ids are skipped.
func (t *Word) DecodeBytes(ids []int) []byte {
	var b []byte
	for _, id := range ids {
		if s := t.TokenString(id); s != "" {
			b = append(append(b, ' '), s...)
		}
	}
	return b
}

// Decode joins the words of ids with single spaces (special tokens render as their strings); unknown ids are
// skipped.
func (t *Word) Decode(ids []int) string { return strings.TrimPrefix(string(t.DecodeBytes(ids)), " ") }

func (t *Word) VocabSize() int { return t.size }
func (t *Word) EOS() int       { return WordEOS }
func (t *Word) BOS() int       { return WordBOS }
func (t *Word) PAD() int       { return WordPAD }
func (t *Word) Name() string   { return "word" }

// IsSpecial reports whether id is one of the four special tokens.
func (t *Word) IsSpecial(id int) bool { return id >= 0 && id < len(wordSpecials) }

// TokenString is the word (or special token) of id, "" for an id outside the vocabulary.
func (t *Word) TokenString(id int) string {
	switch {
	case id >= 0 && id < len(wordSpecials):
		return wordSpecials[id]
	case id >= len(wordSpecials) && id < len(wordSpecials)+len(t.words):
		return t.words[id-len(wordSpecials)]
	}
	return ""
}

// TokenID looks up a word or special token.
func (t *Word) TokenID(token string) (int, bool) {
	id, ok := t.ids[token]
	return id, ok
}
