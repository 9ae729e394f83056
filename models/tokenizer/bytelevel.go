package tokenizer

// GPT-2 byte-level alphabet: every byte maps to a printable rune so that BPE vocabularies can be stored as
// text. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the remaining 68 bytes map,
// in increasing order, to U+0100, U+0101, … (so ' ' becomes 'Ġ' and '\n' becomes 'Ċ').
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelSymbols returns the byte-level symbols of s (one per byte, as single-rune strings' runes).
func byteLevelSymbols(s string) []rune {
	out := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = byteToRune[s[i]]
	}
	return out
}

// appendByteLevelDecoded appends the bytes of a vocabulary token. Like HF's ByteLevel decoder, a token whose
// runes are not all in the alphabet is passed through as its own UTF-8 bytes.
func appendByteLevelDecoded(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, b)
	}
	return dst
}
