// Package tokenizer turns text into token ids and back.
//
// Two implementations share the Tokenizer interface:
//   - Byte: the tokenizer of the built-in presets ("nano", "micro"): one id per byte plus a few special tokens.
//   - BPE: Hugging Face byte-level BPE read from tokenizer.json (Qwen2 / Llama-3 style), reproducing the ids of
//     the HF `tokenizers` library exactly (see bpe.go and pretokenize.go).
//
// RenderChatML renders a conversation with the ChatML template used by the reference models.
package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Tokenizer is what models, training and generation need from a tokenizer.
type Tokenizer interface {
	// Encode tokenizes text. Special-token strings in text (e.g. "<|im_end|>") map to their ids.
	Encode(text string) []int
	// Decode returns the text of ids as valid UTF-8: invalid byte sequences (e.g. a multi-byte character
	// cut between tokens) become U+FFFD. Unknown ids are skipped.
	Decode(ids []int) string
	// DecodeBytes returns the raw bytes of ids, without any UTF-8 repair. Streaming generation needs this:
	// a character may span several tokens, so the caller holds back an incomplete tail.
	DecodeBytes(ids []int) []byte
	VocabSize() int
	EOS() int // -1 when none
	BOS() int // -1 when none
	PAD() int // -1 when none
	Name() string
	// TokenString is the vocabulary entry of id (HF convert_ids_to_tokens form), "" for unknown ids.
	TokenString(id int) string
	// TokenID looks up a vocabulary entry or special token by its exact string.
	TokenID(token string) (int, bool)
	// IsSpecial reports whether id is a special (control) token such as BOS/EOS/<|im_start|>.
	IsSpecial(id int) bool
}

// StripSpecial returns ids without the special tokens of t (like HF skip_special_tokens).
func StripSpecial(t Tokenizer, ids []int) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if !t.IsSpecial(id) {
			out = append(out, id)
		}
	}
	return out
}

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatML special tokens.
const (
	IMStart = "<|im_start|>"
	IMEnd   = "<|im_end|>"
)

// RenderChatML renders messages exactly like the reference chat_template.jinja:
//
//	<|im_start|>{role}\n{content}<|im_end|>\n   for every message,
//	<|im_start|>assistant\n                       when addGenerationPrompt.
//
// Unlike the upstream Qwen2 template, the reference template adds NO default system message, so none is
// inserted here either.
func RenderChatML(messages []Message, addGenerationPrompt bool) string {
	var b strings.Builder
	for _, m := range messages {
		b.WriteString(IMStart)
		b.WriteString(m.Role)
		b.WriteByte('\n')
		b.WriteString(m.Content)
		b.WriteString(IMEnd)
		b.WriteByte('\n')
	}
	if addGenerationPrompt {
		b.WriteString(IMStart)
		b.WriteString("assistant\n")
	}
	return b.String()
}

// lossyUTF8 converts b to a string, replacing each maximal invalid subsequence by one U+FFFD. This follows the
// Unicode "substitution of maximal subparts" practice that Rust's String::from_utf8_lossy (used by HF
// tokenizers' decode) implements, so decoded text matches HF even for broken sequences; Go's
// strings.ToValidUTF8 would instead collapse whole runs.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length (≥1) of the longest prefix of b that starts a valid UTF-8 sequence but is
// not complete; b must start with an invalid sequence.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 2
	case c == 0xE0:
		need, lo = 3, 0xA0
	case c == 0xED:
		need, hi = 3, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 3
	case c == 0xF0:
		need, lo = 4, 0x90
	case c == 0xF4:
		need, hi = 4, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 4
	default:
		return 1
	}
	k := 1
	if k < len(b) && k < need && b[k] >= lo && b[k] <= hi {
		k++
		for k < len(b) && k < need && b[k] >= 0x80 && b[k] <= 0xBF {
			k++
		}
	}
	return k
}
