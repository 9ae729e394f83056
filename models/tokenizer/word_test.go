package tokenizer

import (
	"strings"
	"testing"
)

func TestWordTokenizer(t *testing.T) {
	tok, err := NewWord([]string{"which", "material", "is", "magnetic", "?", "tin"}, 16)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 16 {
		t.Fatalf("VocabSize %d, want the reserved 16", tok.VocabSize())
	}
	ids := tok.Encode("Which material  is magnetic?")
	want := []int{4, 5, 6, 7, 8}
	if len(ids) != len(want) {
		t.Fatalf("Encode = %v, want %v", ids, want)
	}
	for i := range ids {
		if ids[i] != want[i] {
			t.Fatalf("Encode = %v, want %v", ids, want)
		}
	}
	if got := tok.Decode(ids); got != "which material is magnetic ?" {
		t.Errorf("Decode = %q", got)
	}
	// Streaming one id at a time gives the same text with one leading space.
	var b strings.Builder
	for _, id := range ids {
		b.Write(tok.DecodeBytes([]int{id}))
	}
	if b.String() != " which material is magnetic ?" {
		t.Errorf("streamed %q", b.String())
	}
	if ids := tok.Encode("is gold magnetic"); ids[1] != WordUNK {
		t.Errorf("out-of-vocabulary word encoded as %d, want <unk> %d", ids[1], WordUNK)
	}
	if err := tok.Check("is gold or silver magnetic ? gold"); err == nil || err.Error() != "unknown word(s): gold, or, silver" {
		t.Errorf("Check = %v, want the unknown words named once each, in order", err)
	}
	if err := tok.Check("which tin is magnetic ?"); err != nil {
		t.Errorf("Check of an in-vocabulary text = %v", err)
	}
	if id, ok := tok.TokenID("tin"); !ok || tok.TokenString(id) != "tin" {
		t.Errorf("TokenID/TokenString do not round-trip")
	}
	if !tok.IsSpecial(WordEOS) || tok.IsSpecial(4) {
		t.Errorf("IsSpecial wrong")
	}
	if tok.Encode("<eos>")[0] != WordEOS {
		t.Errorf("special token string not recognised")
	}
}

func TestWordTokenizerRejectsBadVocabularies(t *testing.T) {
	for _, v := range [][]string{{"a", "a"}, {"two words"}, {""}, {"Upper"}} {
		if _, err := NewWord(v, 0); err == nil {
			t.Errorf("NewWord(%q) accepted", v)
		}
	}
	if _, err := NewWord([]string{"a", "b"}, 5); err == nil {
		t.Errorf("a vocabulary larger than the reserved size was accepted")
	}
}
