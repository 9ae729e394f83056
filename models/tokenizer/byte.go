package tokenizer

import "fmt"

// Byte tokenizer layout: ids 0..255 are the raw bytes; the special tokens follow.
const (
	ByteBOS       = 256 // "<|bos|>"
	ByteEOS       = 257 // "<|eos|>"
	BytePAD       = 258 // "<|pad|>"
	ByteVocabSize = 259
)

// Special-token strings of the Byte tokenizer, recognised verbatim in Encode's input.
const (
	ByteBOSToken = "<|bos|>"
	ByteEOSToken = "<|eos|>"
	BytePADToken = "<|pad|>"
)

// Byte is the tokenizer of the built-in presets: no training, no files, every UTF-8 text round-trips exactly.
// Encode does not add BOS; callers that want it prepend ByteBOS themselves (as with the HF tokenizers here).
type Byte struct {
	added *addedMatcher
}

var byteSpecials = []addedToken{
	{Content: ByteBOSToken, ID: ByteBOS, Special: true},
	{Content: ByteEOSToken, ID: ByteEOS, Special: true},
	{Content: BytePADToken, ID: BytePAD, Special: true},
}

// NewByte returns the byte tokenizer.
func NewByte() *Byte { return &Byte{added: newAddedMatcher(byteSpecials)} }

// Encode maps special-token strings to their ids and every other byte to itself.
func (b *Byte) Encode(text string) []int {
	ids := make([]int, 0, len(text))
	for _, seg := range b.added.split(text, nil) {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		for i := 0; i < len(seg.text); i++ {
			ids = append(ids, int(seg.text[i]))
		}
	}
	return ids
}

// DecodeBytes returns the bytes of ids; special tokens render as their strings, out-of-range ids are skipped.
func (b *Byte) DecodeBytes(ids []int) []byte {
	out := make([]byte, 0, len(ids))
	for _, id := range ids {
		switch {
		case id >= 0 && id < 256:
			out = append(out, byte(id))
		case id >= 256 && id < ByteVocabSize:
			out = append(out, byteSpecials[id-256].Content...)
		}
	}
	return out
}

// Decode is DecodeBytes made valid UTF-8 (never panics on arbitrary ids).
func (b *Byte) Decode(ids []int) string { return lossyUTF8(b.DecodeBytes(ids)) }

func (b *Byte) VocabSize() int { return ByteVocabSize }
func (b *Byte) EOS() int       { return ByteEOS }
func (b *Byte) BOS() int       { return ByteBOS }
func (b *Byte) PAD() int       { return BytePAD }
func (b *Byte) Name() string   { return "byte" }

// IsSpecial reports whether id is one of the special tokens after the 256 bytes.
func (b *Byte) IsSpecial(id int) bool { return id >= 256 && id < ByteVocabSize }

// TokenString renders printable ASCII as itself and other bytes as "<0xNN>" (sentencepiece style), so a
// token listing stays readable and unambiguous.
func (b *Byte) TokenString(id int) string {
	switch {
	case id >= 0x21 && id <= 0x7E:
		return string(rune(id))
	case id >= 0 && id < 256:
		return fmt.Sprintf("<0x%02X>", id)
	case id >= 256 && id < ByteVocabSize:
		return byteSpecials[id-256].Content
	}
	return ""
}

// TokenID is the inverse of TokenString.
func (b *Byte) TokenID(token string) (int, bool) {
	for id := 0; id < ByteVocabSize; id++ {
		if b.TokenString(id) == token {
			return id, true
		}
	}
	return 0, false
}
